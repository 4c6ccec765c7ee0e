// Real processes, every peer link through a test-controlled TCP proxy: a leader cut off in a
// minority steps down (check-quorum) and acknowledges no write; the majority elects a new
// leader and keeps serving; after healing, the recorded history is linearizable. Then all
// three processes are killed at once and restarted: every acknowledged write is back.
import { afterEach, expect, it } from 'vitest';
import { checkHistory, type Operation } from '../../sim/checkers/linearizability.ts';
import {
  agreedLeader,
  api,
  createProcCluster,
  destroyProcCluster,
  heal,
  leaderSeenBy,
  partition,
  type ProcCluster,
  type ProcNode,
  startNode,
  stopNode,
  until,
} from '../../support/process-cluster.ts';

let c: ProcCluster | undefined;
afterEach(async () => {
  await destroyProcCluster(c);
  c = undefined;
});

it('a leader cut off in a minority steps down and acknowledges nothing; the history stays linearizable', { timeout: 90_000 }, async () => {
  c = await createProcCluster(3);
  const cl = c;
  const old = await until(() => agreedLeader(cl), 'a leader');
  const history: Operation[] = [];
  const acked: { key: string; value: string; node: string; call: number }[] = [];
  const t0 = performance.now();
  let stop = false;
  const client = async (clientId: number): Promise<void> => {
    for (let n = 0; n < 2_000 && !stop; n++) {
      const key = `k${(clientId + n) % 3}`;
      const node: ProcNode = cl.nodes[(clientId + n) % 3]!;
      const call = performance.now() - t0;
      if (node.proc === null) continue;
      if (n % 3 === 2) {
        try {
          const { status, json } = await api(node, 'GET', `/v1/kv/${key}?consistency=strong`, undefined, 2_000);
          const ret = performance.now() - t0;
          if (status === 200) history.push({ clientId, input: { kind: 'get', key }, output: { value: json.value as string }, call, ret });
          else if (status === 404) history.push({ clientId, input: { kind: 'get', key }, output: { value: null }, call, ret });
        } catch {
          // a read that failed had no effect
        }
        continue;
      }
      const value = `c${clientId}-${n}`;
      try {
        const { status } = await api(node, 'PUT', `/v1/kv/${key}`, { value }, 2_000);
        const ret = performance.now() - t0;
        if (status === 200) {
          history.push({ clientId, input: { kind: 'put', key, value }, output: {}, call, ret });
          acked.push({ key, value, node: node.id, call });
        } else history.push({ clientId, input: { kind: 'put', key, value }, output: undefined, call, ret: Infinity });
      } catch {
        history.push({ clientId, input: { kind: 'put', key, value }, output: undefined, call, ret: Infinity });
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const load = Promise.all([0, 1, 2].map(client));
  await new Promise((r) => setTimeout(r, 1_000));

  partition(cl, [old.id]);
  const cutAt = performance.now() - t0;
  const majority = cl.nodes.filter((n) => n !== old);
  // Check-quorum: the isolated leader stops calling itself leader within an election timeout.
  await until(async () => ((await leaderSeenBy(old)) !== old.id ? true : undefined), 'the isolated leader to step down', 10_000);
  // The majority may still agree on the old leader for a moment after it stepped down (its
  // heartbeats stopped less than an election timeout ago): wait for a leader of their own.
  const fresh = await until(
    async () => {
      const l = await agreedLeader(cl, majority);
      return l !== undefined && l !== old ? l : undefined;
    },
    'a new leader in the majority',
    15_000,
  );
  expect(fresh.id).not.toBe(old.id);
  // The leader-change counter saw at least the first election and this one.
  const metrics = await (await fetch(`http://127.0.0.1:${fresh.port}/metrics`)).text();
  expect(Number(/^neuroplex_raft_leader_changes_total (\d+)/m.exec(metrics)?.[1] ?? 0)).toBeGreaterThanOrEqual(2);
  // The loop's work counters: a leader that took writes took Readys, applied batches and
  // sent frames, each frame holding at least one Raft message.
  const count = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(metrics)?.[1] ?? -1);
  expect(count('neuroplex_raft_readies_total')).toBeGreaterThan(0);
  expect(count('neuroplex_apply_batches_total')).toBeGreaterThan(0);
  expect(count('neuroplex_peer_frames_sent_total')).toBeGreaterThan(0);
  expect(count('neuroplex_peer_messages_sent_total')).toBeGreaterThanOrEqual(count('neuroplex_peer_frames_sent_total'));
  expect(count('neuroplex_peer_messages_received_total')).toBeGreaterThanOrEqual(count('neuroplex_peer_frames_received_total'));
  expect(count('neuroplex_peer_frames_received_total')).toBeGreaterThan(0);
  // A write sent to the isolated node is not acknowledged.
  const isolatedWrite = await api(old, 'PUT', '/v1/kv/isolated', { value: 'never' }, 3_000).catch(() => ({ status: 0 }));
  expect(isolatedWrite.status).not.toBe(200);
  // The majority keeps acknowledging (clients also spend up to 2 s on the isolated node).
  const ackedBefore = acked.length;
  await until(async () => (acked.length > ackedBefore + 2 ? true : undefined), 'writes acknowledged by the majority', 10_000);

  // Nothing sent to the isolated node after the cut was acknowledged (it has no quorum).
  expect(acked.filter((a) => a.node === old.id && a.call > cutAt)).toEqual([]);
  heal(cl);
  await until(() => agreedLeader(cl), 'one leader after healing', 15_000);
  await new Promise((r) => setTimeout(r, 500));
  stop = true;
  await load;
  expect((await api(fresh, 'GET', '/v1/kv/isolated?consistency=strong')).status).toBe(404);
  const finals = await until(async () => {
    try {
      const views = await Promise.all(cl.nodes.map((n) => Promise.all([0, 1, 2].map(async (k) => (await api(n, 'GET', `/v1/kv/k${k}?consistency=strong`)).json?.value ?? null))));
      return views.every((v) => JSON.stringify(v) === JSON.stringify(views[0])) ? views[0] : undefined;
    } catch {
      return undefined;
    }
  }, 'all nodes to agree');
  expect(finals.every((v) => v !== null)).toBe(true);
  expect(acked.length).toBeGreaterThan(20);
  const result = checkHistory(history);
  if (!result.ok) console.error(`not linearizable at key ${result.badKey} (${history.length} ops)`);
  expect(result.exhausted ?? false).toBe(false);
  expect(result.ok).toBe(true);
});

it('all nodes killed at once and restarted: every acknowledged write is back', { timeout: 60_000 }, async () => {
  c = await createProcCluster(3);
  const cl = c;
  await until(() => agreedLeader(cl), 'a leader');
  const writes: Promise<{ status: number }>[] = [];
  for (let i = 0; i < 60; i++) writes.push(api(cl.nodes[i % 3]!, 'PUT', `/v1/kv/r${i}`, { value: i }, 5_000));
  const statuses = (await Promise.all(writes)).map((r) => r.status);
  expect(statuses.every((s) => s === 200)).toBe(true);
  await Promise.all(cl.nodes.map((n) => stopNode(cl, n, 'SIGKILL')));
  await Promise.all(cl.nodes.map((n) => startNode(cl, n)));
  await until(() => agreedLeader(cl), 'a leader after the restart');
  for (const n of cl.nodes) {
    for (let i = 0; i < 60; i++) {
      const { status, json } = await api(n, 'GET', `/v1/kv/r${i}?consistency=strong`);
      expect(status).toBe(200);
      expect(json.value).toBe(i);
    }
  }
});
