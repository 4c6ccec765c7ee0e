// An edge's origin link that first synced a keyspace while it was still empty at the origin
// (log id `empty`) follows the origin's log to its real id when the first change commits,
// and persists that cursor: after the link is cut (a TCP proxy in front of the origin) it
// is resumed in log mode from its cursor, not sent the whole state again. Real workerd
// through `wrangler dev`, a real single-node origin (LocalNode, OriginSync) in this process.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { NeuroplexClient } from '../../../browser/src/client.ts';
import type { WebSocketConstructor } from '../../../browser/src/transport.ts';
import { EMPTY_LOG_ID } from '../../../server/src/sync/committed-keyspace-source.ts';
import { EdgeClient, sleep, startWranglerDev, waitFor, type WranglerDev } from '../../support/edge-harness.ts';
import { freePort } from '../../support/free-port.ts';
import { startOrigin, type TestOrigin } from '../../support/sync-origin.ts';
import { TcpProxy } from '../../support/tcp-proxy.ts';

describe('the edge origin link on a keyspace that was empty at the origin', () => {
  const dir = mkdtempSync(join(tmpdir(), 'np-edge-logid-'));
  let origin: TestOrigin | undefined;
  let proxy: TcpProxy | undefined;
  let dev: WranglerDev | undefined;
  const edgeClient = new EdgeClient(501, 'fresh');
  let originClient: NeuroplexClient | undefined;

  beforeAll(async () => {
    origin = await startOrigin();
    proxy = await TcpProxy.start();
    proxy.setTarget(origin.port);
    dev = await startWranglerDev({ port: await freePort(), persistTo: dir, vars: { ORIGIN_URL: `http://127.0.0.1:${proxy.port}` } });
  }, 60_000);

  afterAll(async () => {
    await edgeClient.close();
    await originClient?.close();
    await dev?.stop();
    await proxy?.close();
    await origin?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('is resumed from its cursor by log after the keyspace got its real log id', async () => {
    const o = origin!;
    const welcomes = o.sync.sync.welcomes;
    await edgeClient.connect(`ws://127.0.0.1:${dev!.port}/v1/sync?ks=fresh&region=eu`);
    await waitFor(() => edgeClient.synced, 10_000, 'edge client synced');
    // The link's first session after an object start resumes by causal context.
    await waitFor(() => welcomes.context >= 1, 10_000, 'the edge linked to the origin');
    expect(o.node.stateMachine.crdtKeyspace('fresh')).toBeUndefined();

    // The edge's change makes the origin's first commit: the link's session moves to the real log.
    edgeClient.host.replica.put('at-edge', 1);
    edgeClient.pump();
    await waitFor(() => edgeClient.host.committedLsn >= 1, 10_000, 'committed at the origin');
    const realLogId = o.node.stateMachine.crdtKeyspace('fresh')!.logId;
    expect(realLogId).not.toBe(EMPTY_LOG_ID);
    // And a change from the origin side reaches the edge through the link.
    originClient = await NeuroplexClient.connect({ url: o.syncUrl, keyspace: 'fresh', WebSocket: WebSocket as unknown as WebSocketConstructor, networkEvents: null });
    await originClient.set('at-origin', 2);
    await originClient.flushed();
    await waitFor(() => edgeClient.host.replica.get('at-origin') === 2, 10_000, 'origin -> edge');
    expect(originClient.replica.get('at-edge')).toBe(1);

    // Cut the link; it reconnects with the cursor it persisted.
    const before = { ...welcomes };
    proxy!.block();
    await sleep(300);
    proxy!.unblock();
    await waitFor(() => welcomes.log + welcomes.snapshot > before.log + before.snapshot, 20_000, 'the link back at the origin');
    expect(welcomes.snapshot, 'a snapshot instead of the log tail').toBe(before.snapshot);
    expect(welcomes.log).toBe(before.log + 1);
    await originClient.set('after-reconnect', 3);
    await waitFor(() => edgeClient.host.replica.get('after-reconnect') === 3, 10_000, 'origin -> edge after the reconnect');
  }, 60_000);
});
