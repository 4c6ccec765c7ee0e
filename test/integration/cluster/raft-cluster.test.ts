// Three RaftNodes over real sockets on loopback: election, replicated writes from any
// node, strong reads, leader loss, and a restart that catches up from its WAL.
import { afterEach, describe, expect, it } from 'vitest';
import { KvCommandType } from '../../../core/src/kv/commands.ts';
import { type ClusterMember, eventually, leaderOf, startCluster, startMember, stopCluster, stopMember } from '../../support/raft-cluster.ts';

let cluster: ClusterMember[] = [];
afterEach(async () => {
  await stopCluster(cluster);
  cluster = [];
});

const put = (key: string, value: unknown) => ({ type: KvCommandType.Put, ks: 'default', key, value }) as never;

describe('Raft cluster of origin nodes', () => {
  it('elects one leader, replicates writes made on any node, and serves strong reads', async () => {
    cluster = await startCluster(3);
    const leader = await eventually(() => leaderOf(cluster), 'a leader');
    const follower = cluster.find((m) => m !== leader)!;
    const r1 = await follower.node!.propose(put('a', 1), { timeoutMs: 5_000 });
    const r2 = await leader.node!.propose(put('b', 2), { timeoutMs: 5_000 });
    expect(r1.status).toBe('ok');
    expect(r2.status).toBe('ok');
    for (const m of cluster) {
      const entry = await m.node!.read('default', 'a', { consistency: 'strong', timeoutMs: 5_000 });
      expect(entry?.value).toBe(1);
    }
    const info = leader.node!.cluster();
    expect(info.members.map((x) => x.id).sort()).toEqual(['n1', 'n2', 'n3']);
    expect(info.commitIndex).toBeGreaterThanOrEqual(3);
  });

  it('proposes the writes (and asks the strong reads) of one turn together: one message per follower, not one per request', async () => {
    cluster = await startCluster(3);
    const leader = await eventually(() => leaderOf(cluster), 'a leader');
    const follower = cluster.find((m) => m !== leader)!;
    const sentBefore = leader.node!.transport.stats.sent;
    const fwdBefore = follower.node!.transport.stats.sent;
    const results = await Promise.all([
      ...Array.from({ length: 400 }, (_, i) => leader.node!.propose(put(`b${i}`, i), { timeoutMs: 5_000 })),
      ...Array.from({ length: 100 }, (_, i) => follower.node!.propose(put(`f${i}`, i), { timeoutMs: 5_000 })),
    ]);
    expect(results.every((r) => r.status === 'ok')).toBe(true);
    // Per write, the leader would send 2 appends (one per follower) and the follower would
    // forward 1 proposal; batched, a handful of Readys carry them all.
    expect(leader.node!.transport.stats.sent - sentBefore).toBeLessThan(100);
    expect(follower.node!.transport.stats.sent - fwdBefore).toBeLessThan(50);
    const entry = await follower.node!.read('default', 'b399', { consistency: 'strong', timeoutMs: 5_000 });
    expect(entry?.value).toBe(399);
    // Strong reads of one turn share one ReadIndex round (one heartbeat per follower).
    const beforeReads = leader.node!.transport.stats.sent;
    const reads = await Promise.all(Array.from({ length: 300 }, (_, i) => leader.node!.read('default', `b${i}`, { consistency: 'strong', timeoutMs: 5_000 })));
    expect(reads.map((r) => r?.value)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(leader.node!.transport.stats.sent - beforeReads).toBeLessThan(60);
  });

  it('keeps serving after losing its leader, and a restarted node catches up from its WAL', async () => {
    cluster = await startCluster(3);
    const first = await eventually(() => leaderOf(cluster), 'a leader');
    for (let i = 0; i < 20; i++) await first.node!.propose(put(`k${i}`, i), { timeoutMs: 5_000 });
    await stopMember(first);
    const rest = cluster.filter((m) => m !== first);
    const second = await eventually(() => leaderOf(rest), 'a new leader');
    expect(second).not.toBe(first);
    await second.node!.propose(put('after', true), { timeoutMs: 5_000 });
    await startMember(first, cluster);
    const back = await eventually(() => (first.node!.stateMachine.get('default', 'after') !== undefined ? true : undefined), 'the restarted node to catch up');
    expect(back).toBe(true);
    expect(first.node!.stateMachine.get('default', 'k19')?.value).toBe(19);
  });

  it('refuses peers that do not know the cluster secret', async () => {
    cluster = await startCluster(1);
    const { WebSocket } = await import('ws');
    const ws = new WebSocket(`${cluster[0]!.info.url.replace('http', 'ws')}/v1/raft`);
    const closed = await new Promise<number>((resolve) => {
      ws.on('message', () => ws.send(Buffer.concat([Buffer.from([2, 5]), Buffer.from('intru'), Buffer.alloc(32)])));
      ws.on('close', (code) => resolve(code));
    });
    expect(closed).toBe(1008);
    expect(cluster[0]!.node!.transport.stats.rejected).toBe(1);
  });
});
