// A cluster of real `neuroplex start` processes on loopback for fault tests. Every peer link
// goes through its own TcpProxy (one per ordered pair of nodes), so a test can partition
// nodes; nodes listen on ephemeral ports, and the proxies follow a node across restarts.
// Each process runs in its own process group and is stopped by that group's id.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TcpProxy } from './tcp-proxy.ts';

const BIN = join(import.meta.dirname, '..', '..', 'server', 'bin', 'neuroplex.js');
export const PROCESS_SECRET = 'process-cluster-secret-0123456789';

export interface ProcNode {
  readonly id: string;
  readonly dir: string;
  proc: ChildProcess | null;
  /** The port it listens on now (0 while down). */
  port: number;
  stdout: string;
  stderr: string;
}

export interface ProcCluster {
  readonly root: string;
  readonly nodes: ProcNode[];
  /** links.get(`${from}>${to}`): the proxy `from` dials `to` through. */
  readonly links: Map<string, TcpProxy>;
}

export async function createProcCluster(size: number, extraArgs: readonly string[] = []): Promise<ProcCluster> {
  const root = mkdtempSync(join(tmpdir(), 'neuroplex-proc-'));
  const nodes: ProcNode[] = [];
  for (let i = 1; i <= size; i++) nodes.push({ id: `n${i}`, dir: join(root, `n${i}`), proc: null, port: 0, stdout: '', stderr: '' });
  const links = new Map<string, TcpProxy>();
  for (const a of nodes) for (const b of nodes) if (a !== b) links.set(`${a.id}>${b.id}`, await TcpProxy.start());
  const c: ProcCluster = { root, nodes, links };
  await Promise.all(nodes.map((n) => startNode(c, n, extraArgs)));
  return c;
}

/** Starts (or restarts) a node; resolves with its port once it listens, rejects if it exits. */
export async function startNode(c: ProcCluster, n: ProcNode, extraArgs: readonly string[] = []): Promise<number> {
  const peers = c.nodes.filter((x) => x !== n).map((x) => `${x.id}=127.0.0.1:${c.links.get(`${n.id}>${x.id}`)!.port}`).join(',');
  n.stdout = '';
  n.stderr = '';
  const proc = spawn(process.execPath, [BIN, 'start', '--id', n.id, '--listen', '127.0.0.1:0', '--data', n.dir, '--peers', peers, ...extraArgs], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NEUROPLEX_CLUSTER_SECRET: PROCESS_SECRET },
  });
  n.proc = proc;
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (n.stdout += d));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (n.stderr += d));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${n.id} did not start within 15 s: ${n.stderr}`)), 15_000);
    const onData = (): void => {
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(n.stdout);
      if (m === null) return;
      clearTimeout(timer);
      proc.stdout!.off('data', onData);
      resolve(Number(m[1]));
    };
    proc.stdout!.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${n.id} exited with ${code}: ${n.stderr.trim()}`));
    });
  });
  n.port = port;
  for (const x of c.nodes) if (x !== n) c.links.get(`${x.id}>${n.id}`)!.setTarget(port);
  return port;
}

/** Waits (bounded) for a child to exit; returns its exit code (null if killed by a signal). */
export async function waitExit(proc: ChildProcess, timeoutMs: number): Promise<number | null | 'running'> {
  if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
  return await new Promise((resolve) => {
    const timer = setTimeout(() => resolve('running'), timeoutMs);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

/** Stops a node's process group: SIGKILL (a crash) or SIGINT (graceful, SIGKILL after 5 s). */
export async function stopNode(c: ProcCluster, n: ProcNode, signal: 'SIGKILL' | 'SIGINT'): Promise<void> {
  const p = n.proc;
  n.proc = null;
  n.port = 0;
  for (const x of c.nodes) if (x !== n) c.links.get(`${x.id}>${n.id}`)!.setTarget(null);
  if (p?.pid === undefined || p.exitCode !== null || p.signalCode !== null) return;
  try {
    process.kill(-p.pid, signal);
  } catch {
    return; // already gone
  }
  if ((await waitExit(p, 5_000)) === 'running') {
    process.kill(-p.pid, 'SIGKILL');
    await waitExit(p, 5_000);
  }
}

/** Cuts every link between `side` and the other nodes, both directions. */
export function partition(c: ProcCluster, side: readonly string[]): void {
  for (const [key, proxy] of c.links) {
    const [from, to] = key.split('>') as [string, string];
    if (side.includes(from) !== side.includes(to)) proxy.block();
  }
}

export function heal(c: ProcCluster): void {
  for (const proxy of c.links.values()) proxy.unblock();
}

export async function destroyProcCluster(c: ProcCluster | undefined): Promise<void> {
  if (c === undefined) return;
  for (const n of c.nodes) await stopNode(c, n, 'SIGINT');
  for (const p of c.links.values()) await p.close();
  rmSync(c.root, { recursive: true, force: true });
}

export function urlOf(n: ProcNode): string {
  return `http://127.0.0.1:${n.port}`;
}

export async function api(n: ProcNode, method: string, path: string, body?: unknown, timeoutMs = 3_000): Promise<{ status: number; json: any }> {
  const res = await fetch(urlOf(n) + path, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  return { status: res.status, json: await res.json().catch(() => null) };
}

/** What `n` says about the leader (undefined when it does not answer). */
export async function leaderSeenBy(n: ProcNode): Promise<string | null | undefined> {
  if (n.proc === null) return undefined;
  try {
    const { json } = await api(n, 'GET', '/v1/cluster', undefined, 1_000);
    return (json?.leader ?? null) as string | null;
  } catch {
    return undefined;
  }
}

/** Polls `f` every 100 ms until it returns a value, at most `ms`. */
export async function until<T>(f: () => Promise<T | undefined>, what: string, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The leader every running node in `among` agrees on. */
export async function agreedLeader(c: ProcCluster, among: readonly ProcNode[] = c.nodes): Promise<ProcNode | undefined> {
  const views = await Promise.all(among.map(leaderSeenBy));
  const first = views[0];
  if (typeof first !== 'string' || views.some((v) => v !== first)) return undefined;
  return c.nodes.find((n) => n.id === first);
}
