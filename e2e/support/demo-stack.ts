// What a demo spec starts and stops: a 3-node origin cluster (`neuroplex cluster`, its own
// process group), optionally the edge in `wrangler dev` (its own process group), and the
// demo server (in this process) serving demo-app/dist, all on free loopback ports.
import { test } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDemoServer } from '../../scripts/demo-server.mjs';
import { startWranglerDev, type WranglerDev } from '../../test/support/edge-harness.ts';
import { freePort, freePortRun } from '../../test/support/free-port.ts';
import { type LocalCluster, startLocalCluster } from '../../test/support/local-cluster.ts';

export interface DemoStack {
  readonly url: string;
  readonly origins: readonly string[];
  readonly dataDir: string;
  readonly edge: WranglerDev | undefined;
  output(): string;
  stop(): Promise<void>;
}

export async function startDemoStack(options: { edge?: boolean } = {}): Promise<DemoStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'neuroplex-demo-e2e-'));
  const base = await freePortRun(3);
  const origins = [0, 1, 2].map((i) => `http://127.0.0.1:${base + i}`);
  let out = '';
  let cluster: LocalCluster | undefined;
  let edge: WranglerDev | undefined;
  let demo: { url: string; close(): Promise<void> } | undefined;
  const stop = async (): Promise<void> => {
    await demo?.close();
    await edge?.stop();
    await cluster?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    // A loaded machine can take a while to start three node processes.
    cluster = await startLocalCluster({ basePort: base, dataDir, leaderTimeoutMs: 45_000, onOutput: (d) => (out += d) });
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

