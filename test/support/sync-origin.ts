// A single-node origin for client tests: a LocalNode over memory storage, its HTTP API and
// the /v1/sync endpoint on one 127.0.0.1 port (ephemeral unless given).
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { serve, type ServerType } from '@hono/node-server';
import { MemoryKvStorage } from '../../core/src/testing/memory-kv-storage.ts';
import { createOriginApp } from '../../server/src/http/app.ts';
import { LocalNode } from '../../server/src/node/local-node.ts';
import { SyncEndpoint } from '../../server/src/sync/sync-endpoint.ts';

export interface TestOrigin {
  readonly node: LocalNode;
  readonly sync: SyncEndpoint;
  readonly port: number;
  readonly syncUrl: string;
  stop(): Promise<void>;
}

export async function startOrigin(options: { port?: number; token?: string; node?: LocalNode; presenceTimeoutMs?: number } = {}): Promise<TestOrigin> {
  const node = options.node ?? (await LocalNode.open({ storage: new MemoryKvStorage() }));
  const sync = new SyncEndpoint({
    node,
    ...(options.token === undefined ? {} : { token: options.token }),
    ...(options.presenceTimeoutMs === undefined ? {} : { presenceTimeoutMs: options.presenceTimeoutMs }),
  });
  const { app } = createOriginApp({ node });
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: options.port ?? 0 }, () => resolve(s));
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (SyncEndpoint.matches(req)) sync.handleUpgrade(req, socket, head);
    else socket.destroy();
  });
  const port = (server.address() as AddressInfo).port;
  let stopped = false;
  return {
    node,
    sync,
    port,
    syncUrl: `ws://127.0.0.1:${port}/v1/sync`,
    async stop() {
      if (stopped) return;
      stopped = true;
      sync.close();
      const closed = new Promise<void>((r) => server.close(() => r()));
      (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      await closed;
    },
  };
}

/** Waits (bounded) until `check` holds. */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 10_000, explain?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${explain === undefined ? '' : `: ${explain()}`}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
