// The cluster benchmark of issue 6: a 3-node cluster of real `neuroplex start` processes on
// loopback, driven by a separate process (cluster-driver.ts) over the binary client protocol.
// Sequential: 64 clients each waiting for its ack. Pipelined: up to 1,000 writes in flight.
// Strong reads: pipelined ReadIndex reads. p99 at half of the pipelined peak, open loop.
// The same run measures this disk's own fdatasync of 4 KiB writes: no commit beats it.
// `npm run bench:cluster [-- --json]`; writes bench/results/cluster.json.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, fdatasyncSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';

const json = process.argv.includes('--json');
const SECRET = 'cluster-bench-secret-0123456789abcdef';
const root = mkdtempSync(join(tmpdir(), 'npx-clusterbench-'));
// Extra Node flags for the node and driver processes (e.g. BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/p").
const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');

function diskFsync(dir: string, n: number): { p50: number; p99: number } {
  const file = join(dir, 'fsync-probe');
  const fd = openSync(file, 'w');
  const buf = Buffer.alloc(4096, 7);
  const lat: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      writeSync(fd, buf, 0, buf.length, i * 4096);
      const t0 = performance.now();
      fdatasyncSync(fd);
      lat.push(performance.now() - t0);
    }
  } finally {
    closeSync(fd);
    rmSync(file, { force: true });
  }
  lat.sort((a, b) => a - b);
  const pct = (p: number) => +lat[Math.min(lat.length - 1, Math.floor((lat.length * p) / 100))]!.toFixed(3);
  return { p50: pct(50), p99: pct(99) };
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function waitFor(child: ChildProcess, pattern: RegExp, what: string): Promise<string> {
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  for (let i = 0; i < 300 && !pattern.test(out); i++) {
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const m = pattern.exec(out);
  if (m === null) throw new Error(`${what} did not get ready: ${out}`);
  return m[1] ?? m[0];
}

const nodes: ChildProcess[] = [];
let driver: ChildProcess | undefined;
try {
  const ports = [await freePort(), await freePort(), await freePort()];
  const ids = ['n1', 'n2', 'n3'];
  for (let i = 0; i < 3; i++) {
    const peers = ids.map((id, j) => (j === i ? null : `${id}=127.0.0.1:${ports[j]}`)).filter((x) => x !== null).join(',');
    const child = spawn(process.execPath, [...nodeArgs, resolve('server/bin/neuroplex.js'), 'start', '--id', ids[i]!, '--listen', `127.0.0.1:${ports[i]}`, '--data', join(root, ids[i]!), '--peers', peers], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, NEUROPLEX_CLUSTER_SECRET: SECRET },
    });
    nodes.push(child);
  }
  await Promise.all(nodes.map((c, i) => waitFor(c, /listening on (\S+)/, ids[i]!)));
  const urls = ports.map((p) => `http://127.0.0.1:${p}`);
  // Wait (bounded) for a leader.
  for (let i = 0; i < 100; i++) {
    const info = await fetch(`${urls[0]}/v1/cluster`).then((r) => r.json() as Promise<{ leader: string | null }>).catch(() => null);
    if (info?.leader) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const disk = diskFsync(root, 300);
  driver = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', resolve('bench/cluster/cluster-driver.ts'), urls.join(','), nodes.map((c) => c.pid).join(',')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await waitFor(driver, /^(\{.*\})$/m, 'the driver');
  const load = JSON.parse(line) as Record<string, number>;
  const result = {
    nodes: 3,
    seqWritesPerSec: load.seqWritesPerSec,
    seqP50Ms: load.seqP50Ms,
    seqP99Ms: load.seqP99Ms,
    pipelinedWritesPerSec: load.pipelinedWritesPerSec,
    strongReadsPerSec: load.strongReadsPerSec,
    p99AtHalfLoadMs: load.p99AtHalfLoadMs,
    diskFsyncP50Ms: disk.p50,
    diskFsyncP99Ms: disk.p99,
    // CPU per write in the pipelined phase: the 3 nodes together, and the load generator.
    nodeCpuUsPerWrite: load.nodeCpuUsPerWrite,
    driverCpuUsPerWrite: load.driverCpuUsPerWrite,
    loadAverage1m: +loadavg()[0]!.toFixed(2),
  };
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/cluster.json', JSON.stringify(result, null, 2) + '\n');
  if (json) console.log(JSON.stringify(result));
  else console.table(result);
} finally {
  if (driver !== undefined && driver.exitCode === null) driver.kill('SIGTERM');
  for (const c of nodes) {
    if (c.exitCode !== null) continue;
    c.kill('SIGTERM');
    await Promise.race([new Promise((r) => c.once('exit', r)), new Promise((r) => setTimeout(r, 5_000))]);
    if (c.exitCode === null) c.kill('SIGKILL');
  }
  rmSync(root, { recursive: true, force: true });
}
