// A real 3-process cluster (`neuroplex cluster`) under write load from three clients over
// HTTP: the leader is killed with SIGKILL and restarted. No acknowledged write may be
// lost, and the recorded history must be linearizable (checker from the Raft simulator).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { checkHistory, type Operation } from '../../sim/checkers/linearizability.ts';
import { freePortRun } from '../../support/free-port.ts';

const BIN = join(import.meta.dirname, '..', '..', '..', 'server', 'bin', 'neuroplex.js');
// Free ports picked per run: a fixed base port is shared with every other checkout running
// this suite on the machine, and a client talking to another run's cluster sees a history
// that is not its own.
let BASE_PORT = 0;
let urls: string[] = [];

let cluster: ChildProcess | undefined;
let restarted: ChildProcess | undefined;
let root = '';

afterEach(async () => {
  for (const p of [restarted, cluster]) {
    if (p?.pid !== undefined && p.exitCode === null) {
      const done = new Promise((r) => p.once('exit', r));
      process.kill(-p.pid, 'SIGINT');
      await Promise.race([done, new Promise((r) => setTimeout(r, 5_000))]);
      if (p.exitCode === null) process.kill(-p.pid, 'SIGKILL');
    }
  }
  if (root !== '') rmSync(root, { recursive: true, force: true });
});

async function api(url: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(url + path, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(3_000),
  });
  return { status: res.status, json: await res.json().catch(() => null) };
}

async function leader(): Promise<string | undefined> {
  for (const u of urls) {
    try {
      const { json } = await api(u, 'GET', '/v1/cluster');
      if (json?.leader) return json.leader as string;
    } catch {
      // that node is down: ask the next
    }
  }
  return undefined;
}

async function until<T>(f: () => Promise<T | undefined>, what: string, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

it('survives SIGKILL of the leader under load: nothing acknowledged is lost, history linearizable', { timeout: 180_000 }, async () => {
  BASE_PORT = await freePortRun(3);
  urls = [0, 1, 2].map((i) => `http://127.0.0.1:${BASE_PORT + i}`);
  root = mkdtempSync(join(tmpdir(), 'neuroplex-faults-'));
  cluster = spawn(process.execPath, [BIN, 'cluster', '--nodes', '3', '--base-port', String(BASE_PORT), '--data', root], { detached: true, stdio: 'ignore' });
  const first = await until(leader, 'a leader');

  const history: Operation[] = [];
  const acked = new Map<string, string>();
  const t0 = performance.now();
  let stop = false;
  const client = async (clientId: number): Promise<void> => {
    for (let n = 0; n < 400 && !stop; n++) {
      const key = `k${(clientId + n) % 4}`;
      const url = urls[(clientId + n) % 3]!;
      const call = performance.now() - t0;
      if (n % 3 === 2) {
        try {
          const { status, json } = await api(url, 'GET', `/v1/kv/${key}?consistency=strong`);
          const ret = performance.now() - t0;
          if (status === 200) history.push({ clientId, input: { kind: 'get', key }, output: { value: json.value as string }, call, ret });
          else if (status === 404) history.push({ clientId, input: { kind: 'get', key }, output: { value: null }, call, ret });
          // 503/504: a failed read has no effect; it need not be recorded
        } catch {
          // unreachable node: nothing happened
        }
        continue;
      }
      const value = `c${clientId}-${n}`;
      try {
        const { status } = await api(url, 'PUT', `/v1/kv/${key}`, { value });
        const ret = performance.now() - t0;
        if (status === 200) {
          history.push({ clientId, input: { kind: 'put', key, value }, output: {}, call, ret });
          acked.set(`${key}=${value}`, key);
        } else history.push({ clientId, input: { kind: 'put', key, value }, output: undefined, call, ret: Infinity });
      } catch {
        // A timeout or reset: the write may or may not have happened.
        history.push({ clientId, input: { kind: 'put', key, value }, output: undefined, call, ret: Infinity });
      }
    }
  };
  const load = Promise.all([0, 1, 2].map(client));
  await new Promise((r) => setTimeout(r, 1_500));
  // Kill the leader's process (found by its --id on the command line).
  const { execFileSync } = await import('node:child_process');
  // Matched by this test's own temporary data directory: never another cluster's process.
  const pid = Number(execFileSync('pgrep', ['-f', '--', `--data ${join(root, first)}`]).toString().trim().split('\n')[0]);
  process.kill(pid, 'SIGKILL');
  await until(async () => {
    const l = await leader();
    return l !== undefined && l !== first ? l : undefined;
  }, 'a new leader');
  await new Promise((r) => setTimeout(r, 1_500));
  // Restart the killed node on its data directory.
  const i = Number(first.slice(1)) - 1;
  const peers = [0, 1, 2].filter((j) => j !== i).map((j) => `n${j + 1}=127.0.0.1:${BASE_PORT + j}`).join(',');
  const { readFileSync } = await import('node:fs');
  const secret = readFileSync(join(root, 'cluster-secret'), 'utf8').trim();
  restarted = spawn(process.execPath, [BIN, 'start', '--id', first, '--listen', `127.0.0.1:${BASE_PORT + i}`, '--data', join(root, first), '--peers', peers], {
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, NEUROPLEX_CLUSTER_SECRET: secret },
  });
  stop = true;
  await load;

  // Every acknowledged write is the value of its key or was overwritten later; the final
  // values agree on every node, the restarted one included.
  const finals = await until(async () => {
    try {
      const views = await Promise.all(urls.map((u) => Promise.all([0, 1, 2, 3].map(async (k) => (await api(u, 'GET', `/v1/kv/k${k}?consistency=strong`)).json?.value ?? null))));
      return views.every((v) => JSON.stringify(v) === JSON.stringify(views[0])) ? views[0] : undefined;
    } catch {
      return undefined;
    }
  }, 'all nodes to agree', 60_000);
  expect(acked.size).toBeGreaterThan(20);
  expect(finals.filter((v) => v !== null).length).toBe(4);
  const result = checkHistory(history);
  if (!result.ok) {
    // Keep the evidence: the key's history, for test/sim's checker and a human.
    const file = join(import.meta.dirname, '..', '..', '..', 'test-results', `cluster-faults-${Date.now()}.json`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(history.filter((o) => o.input.key === result.badKey), (_k, v) => (v === Infinity ? 'Infinity' : v), 1));
    console.error(`not linearizable at key ${result.badKey} (${history.length} ops); its history: ${file}`);
  }
  expect(result.exhausted ?? false).toBe(false);
  expect(result.ok).toBe(true);
});
