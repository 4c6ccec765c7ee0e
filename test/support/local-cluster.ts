// A local origin cluster as a user starts it: one `neuroplex cluster` process that runs its
// nodes on consecutive loopback ports, in its own process group (so stopping the group
// stops every node), and a bounded wait until the nodes agree on a leader. Used by tests,
// the e2e demo stack and bench:edge.
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'server', 'bin', 'neuroplex.js');

export interface LocalClusterOptions {
  /** The first node listens here, the others on the next ports (take them from freePortRun). */
  readonly basePort: number;
  /** Each node keeps its data in `<dataDir>/n<i>`; reuse it to restart on the same data. */
  readonly dataDir: string;
  /** Default 3. */
  readonly nodes?: number;
  /** How long the nodes may take to agree on a leader; default 30 s. */
  readonly leaderTimeoutMs?: number;
  /** The process's stdout and stderr, as they come (ignored when absent). */
  readonly onOutput?: (chunk: string) => void;
}

/** One node as it answers GET /v1/cluster. */
export interface ClusterNode {
  readonly id: string;
  readonly url: string;
  readonly leader: string | null;
}

export interface LocalCluster {
  readonly urls: readonly string[];
  readonly ports: readonly number[];
  /** The leader the nodes agreed on when the cluster became ready. */
  readonly leader: ClusterNode;
  readonly leaderPort: number;
  /** Sends `sig` to the whole process group (no-op once it is gone). */
  signal(sig: NodeJS.Signals): void;
  /** SIGSTOP / SIGCONT to every node. */
  pause(): void;
  resume(): void;
  /** SIGINT to the group (resumed first: a stopped process would not act on it), SIGKILL after 5 s. */
  stop(): Promise<void>;
}

/** Starts the cluster and waits for a leader; if none comes, stops it and throws. */
export async function startLocalCluster(options: LocalClusterOptions): Promise<LocalCluster> {
  const n = options.nodes ?? 3;
  const ports = Array.from({ length: n }, (_, i) => options.basePort + i);
  const urls = ports.map((p) => `http://127.0.0.1:${p}`);
  const args = [BIN, 'cluster', '--nodes', String(n), '--base-port', String(options.basePort), '--data', options.dataDir];
  const onOutput = options.onOutput;
  const child = spawn(process.execPath, args, { cwd: ROOT, detached: true, stdio: ['ignore', onOutput ? 'pipe' : 'ignore', onOutput ? 'pipe' : 'ignore'] });
  if (onOutput !== undefined) {
    child.stdout!.setEncoding('utf8').on('data', onOutput);
    child.stderr!.setEncoding('utf8').on('data', onOutput);
  }
  const signal = (sig: NodeJS.Signals): void => signalGroup(child, sig);
  const stop = (): Promise<void> => stopGroup(child);
  let leader: ClusterNode;
  try {
    leader = await agreedLeader(urls, options.leaderTimeoutMs ?? 30_000, child);
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    urls,
    ports,
    leader,
    leaderPort: ports[urls.indexOf(leader.url)]!,
    signal,
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    stop,
  };
}

async function nodeView(url: string): Promise<ClusterNode | undefined> {
  try {
    const r = await fetch(`${url}/v1/cluster`, { signal: AbortSignal.timeout(1_000) });
    const j = (await r.json()) as { id: string; leader: string | null };
    return { id: j.id, url, leader: j.leader };
  } catch {
    return undefined;
  }
}

/**
 * The leader every answering node of `urls` agrees on, at least two of them answering and
 * the leader among them (polled, bounded; fails early once `proc` has exited).
 */
export async function agreedLeader(urls: readonly string[], timeoutMs = 15_000, proc?: ChildProcess): Promise<ClusterNode> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const views = (await Promise.all(urls.map(nodeView))).filter((v) => v !== undefined);
    const leader = views[0]?.leader;
    if (typeof leader === 'string' && views.length >= Math.min(2, urls.length) && views.every((v) => v.leader === leader)) {
      const node = views.find((v) => v.id === leader);
      if (node !== undefined) return node;
    }
    if (proc !== undefined && exited(proc)) throw new Error(`the cluster process exited (${proc.exitCode ?? proc.signalCode}) before a leader`);
    if (Date.now() > deadline) throw new Error(`no agreed leader among ${urls.join(', ')} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The pid of the node process (`neuroplex start`) that `neuroplex cluster` runs as `id` in `dataDir`. */
export function pidOfNode(dataDir: string, id: string): number {
  const want = join(dataDir, id);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    const at = argv.indexOf('--data');
    if (argv.includes('start') && at >= 0 && argv[at + 1] === want) return Number(entry);
  }
  throw new Error(`no process runs node ${id} with --data ${want}`);
}

function exited(p: ChildProcess): boolean {
  return p.exitCode !== null || p.signalCode !== null;
}

function signalGroup(p: ChildProcess, sig: NodeJS.Signals): void {
  try {
    process.kill(-p.pid!, sig);
  } catch {
    // the group is gone
  }
}

async function stopGroup(p: ChildProcess): Promise<void> {
  if (p.pid === undefined) return;
  if (exited(p)) {
    signalGroup(p, 'SIGKILL'); // a node the cluster process left behind, if it died first
    return;
  }
  const gone = new Promise<void>((r) => p.once('exit', () => r()));
  signalGroup(p, 'SIGCONT');
  signalGroup(p, 'SIGINT');
  await within(gone, 5_000);
  // Also any node the cluster process left behind.
  signalGroup(p, 'SIGKILL');
  await within(gone, 5_000);
}

/** Waits for `p`, at most `ms` (the timer does not outlive the wait). */
async function within(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}
