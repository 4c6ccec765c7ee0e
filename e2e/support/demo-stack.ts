// What a demo spec starts and stops: a 3-node origin cluster (`neuroplex cluster`, its own
// process group), optionally the edge in `wrangler dev` (its own process group), and the
// demo server (in this process) serving demo-app/dist, all on free loopback ports.
import { test } from '@playwright/test';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDemoServer } from '../../scripts/demo-server.mjs';
import { startWranglerDev, type WranglerDev } from '../../test/support/edge-harness.ts';
import { freePort, freePortRun } from '../../test/support/free-port.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'server', 'bin', 'neuroplex.js');

export interface DemoStack {
  readonly url: string;
  readonly origins: readonly string[];
  readonly dataDir: string;
  readonly edge: WranglerDev | undefined;
  output(): string;
  stop(): Promise<void>;
}

export interface ClusterNode {
  readonly id: string;
  readonly url: string;
  readonly leader: string | null;
}

async function nodeView(url: string): Promise<ClusterNode | undefined> {
  try {
    const r = await fetch(`${url}/v1/cluster`, { signal: AbortSignal.timeout(800) });
    const j = (await r.json()) as { id: string; leader: string | null };
    return { id: j.id, url, leader: j.leader };
  } catch {
    return undefined;
  }
}

/** The leader every answering node agrees on (polled, bounded). */
export async function agreedLeader(origins: readonly string[], timeoutMs = 15_000): Promise<ClusterNode> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const views = (await Promise.all(origins.map(nodeView))).filter((v) => v !== undefined);
    const leader = views[0]?.leader;
    if (typeof leader === 'string' && views.length >= 2 && views.every((v) => v.leader === leader)) {
      const node = views.find((v) => v.id === leader);
      if (node !== undefined) return node;
    }
    if (Date.now() > deadline) throw new Error(`no agreed leader among ${origins.join(', ')}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** The pid of the origin node process whose command line names its own data dir. */
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

export async function startDemoStack(options: { edge?: boolean } = {}): Promise<DemoStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'neuroplex-demo-e2e-'));
  const base = await freePortRun(3);
  const origins = [0, 1, 2].map((i) => `http://127.0.0.1:${base + i}`);
  let out = '';
  const cluster: ChildProcess = spawn(process.execPath, [BIN, 'cluster', '--nodes', '3', '--base-port', String(base), '--data', dataDir], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cluster.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  cluster.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const clusterExited = new Promise<void>((r) => cluster.once('exit', () => r()));
  let edge: WranglerDev | undefined;
  let demo: { url: string; close(): Promise<void> } | undefined;
  const stop = async (): Promise<void> => {
    await demo?.close();
    await edge?.stop();
    if (cluster.exitCode === null && cluster.signalCode === null) {
      try {
        process.kill(-cluster.pid!, 'SIGINT');
      } catch {
        // gone
      }
      const t = setTimeout(() => {
        try {
          process.kill(-cluster.pid!, 'SIGKILL');
        } catch {
          // gone
        }
      }, 5_000);
      await clusterExited;
      clearTimeout(t);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    // A loaded machine can take a while to start three node processes.
    await agreedLeader(origins, 45_000);
    if (options.edge === true) {
      const startEdge = async (): Promise<WranglerDev> =>
        startWranglerDev({ port: await freePort(), persistTo: join(dataDir, 'edge'), vars: { ORIGIN_URL: origins.join(',') }, timeoutMs: 60_000 });
      // workerd now and then fails to start on a loaded machine ("The Workers runtime
      // failed to start"); one more try, then give up with its output.
      edge = await startEdge().catch(async (e: unknown) => {
        out += `\nfirst wrangler dev start failed, retrying: ${(e as Error).message.slice(0, 400)}\n`;
        return startEdge();
      });
    }
    demo = await startDemoServer({ port: await freePort(), origins: [...origins], edge: edge?.url ?? null, keyspace: 'demo' });
  } catch (e) {
    await stop();
    throw new Error(`demo stack did not start: ${(e as Error).message}\n${out}`);
  }
  return { url: demo!.url, origins, dataDir, edge, output: () => out, stop };
}

/**
 * The stack of one spec file: started before its tests (wrangler's first start is slow,
 * hence the longer setup with the edge), stopped after them, windows of one size.
 * Returns a getter for the running stack.
 */
export function useDemoStack(options: { edge?: boolean } = {}): () => DemoStack {
  let stack: DemoStack | undefined;
  test.beforeAll(async () => {
    test.setTimeout(options.edge === true ? 180_000 : 90_000);
    stack = await startDemoStack(options);
  });
  test.afterAll(async () => {
    await stack?.stop();
  });
  test.use({ viewport: { width: 1280, height: 800 } });
  return () => {
    if (stack === undefined) throw new Error('the demo stack did not start (see beforeAll)');
    return stack;
  };
}

