// One origin node (LocalNode: WAL + LMDB + ARC cache) as a real process, driven over HTTP
// from this process: 64 clients each waiting for its ack (every write fsync'd before its
// answer). Phase 1 baseline for the cluster benchmark; `npx tsx bench/cluster/local-node-bench.ts
// [-- --json]`; writes bench/results/local-node.json.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';

const json = process.argv.includes('--json');
const CLIENTS = 64;
const SECONDS = 5;
const dir = mkdtempSync(join(tmpdir(), 'npx-localbench-'));
const child = spawn(process.execPath, [resolve('server/bin/neuroplex.js'), 'start', '--listen', '127.0.0.1:0', '--data', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
try {
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  for (let i = 0; i < 600 && !/listening on/.test(out); i++) await new Promise((r) => setTimeout(r, 100));
  const endpoint = /listening on (\S+)/.exec(out)?.[1];
  if (endpoint === undefined) throw new Error(`node did not start: ${out}`);
  const latencies: number[] = [];
  const reads: number[] = [];
  const until = performance.now() + SECONDS * 1000;
  let n = 0;
  const client = async (c: number) => {
    // Bounded by the deadline.
    while (performance.now() < until) {
      const t0 = performance.now();
      const res = await fetch(`${endpoint}/v1/kv/c${c}:${n++ % 1000}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"value":{"n":1,"s":"some payload"}}' });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`status ${res.status}`);
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
  const readUntil = performance.now() + 2000;
  const reader = async (c: number) => {
    while (performance.now() < readUntil) {
      const t0 = performance.now();
      const res = await fetch(`${endpoint}/v1/kv/c${c}:0?consistency=strong`);
      await res.arrayBuffer();
      reads.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, (_, c) => reader(c)));
  const metrics = await (await fetch(`${endpoint}/metrics`)).text();
  const fsyncSum = Number(/neuroplex_wal_fsync_ms_sum (\S+)/.exec(metrics)?.[1] ?? NaN);
  const fsyncCount = Number(/neuroplex_wal_fsync_ms_count (\S+)/.exec(metrics)?.[1] ?? NaN);
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => +latencies[Math.min(latencies.length - 1, Math.floor((latencies.length * p) / 100))]!.toFixed(2);
  const result = {
    nodes: 1,
    clients: CLIENTS,
    seqWritesPerSec: Math.round(latencies.length / SECONDS),
    seqP50Ms: pct(50),
    seqP99Ms: pct(99),
    strongReadsPerSec: Math.round(reads.length / 2),
    writesPerFsync: +(latencies.length / fsyncCount).toFixed(1),
    fsyncMeanMs: +(fsyncSum / fsyncCount).toFixed(3),
  };
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/local-node.json', JSON.stringify(result, null, 2) + '\n');
  if (json) console.log(JSON.stringify(result));
  else console.table(result);
} finally {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
