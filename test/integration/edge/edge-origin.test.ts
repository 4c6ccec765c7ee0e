// The edge's outbound link in real workerd against a stand-in origin (a Node ws server
// running the core ServerSyncSession over an in-memory log): two regions of one keyspace
// converge through the origin; committed acks come from the origin; during an origin
// outage both regions keep accepting changes, which reach the origin and the other region
// once it is back (reconnects through Durable Object alarms, resumed from the cursor).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EdgeClient, startWranglerDev, waitFor, type WranglerDev } from '../../support/edge-harness.ts';
import { OriginStub } from '../../support/origin-stub.ts';
import { stateOf } from '../../support/sync-harness.ts';
import { freePort } from '../../support/free-port.ts';


describe('edge replicas syncing through an origin (wrangler dev + Node origin stub)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'np-edge-origin-'));
  const origin = new OriginStub(['doc']);
  let originPort = 0;
  let dev: WranglerDev | undefined;
  const clients: EdgeClient[] = [];

  beforeAll(async () => {
    originPort = await origin.start();
    dev = await startWranglerDev({ port: await freePort(), persistTo: dir, vars: { ORIGIN_URL: `http://127.0.0.1:${originPort}` } });
  }, 60_000);

  afterAll(async () => {
    for (const c of clients) await c.close();
    await dev?.stop();
    await origin.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  const url = (region: string): string => `ws://127.0.0.1:${dev!.port}/v1/sync?ks=doc&region=${region}`;

  it('a change at one region reaches the origin (committed ack) and a client of the other region', async () => {
    const a = new EdgeClient(301, 'doc');
    const b = new EdgeClient(302, 'doc');
    clients.push(a, b);
    await a.connect(url('eu'));
    await b.connect(url('us'));
    await waitFor(() => a.synced && b.synced, 10_000, 'both synced');
    await waitFor(() => origin.connections >= 2, 10_000, 'both edges linked to the origin');
    a.host.replica.put('from-eu', 1);
    a.pump();
    await waitFor(() => b.host.replica.get('from-eu') === 1, 10_000, 'eu -> origin -> us');
    expect(origin.host('doc').replica.get('from-eu')).toBe(1);
    await waitFor(() => a.host.committedLsn >= 1, 5_000, 'committed ack from the origin');
  }, 30_000);

  it('during an origin outage both regions keep accepting; everything converges after it', async () => {
    const [a, b] = clients as [EdgeClient, EdgeClient];
    // Strong operations go to the origin while it is up (the stand-in answers 404 JSON) ...
    const forwarded = await fetch(`http://127.0.0.1:${dev!.port}/v1/kv/some-key`);
    expect(forwarded.status).toBe(404);
    expect(await forwarded.json()).toMatchObject({ error: { message: 'stub' } });
    await origin.stop();
    // ... and fail fast with a typed 503 while it is down.
    const down = await fetch(`http://127.0.0.1:${dev!.port}/v1/kv/some-key`, { method: 'PUT', body: '{}' });
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ error: { code: 'CONSISTENCY_UNAVAILABLE' } });
    const before = a.host.committedLsn;
    a.host.replica.put('offline-eu', 'x');
    a.pump();
    b.host.replica.counter('n').increment(5);
    b.pump();
    // Stored at the edge (stored ack), not committed: the origin is down.
    await waitFor(() => a.host.statuses.length > 0 && a.host.session!.inflightBytes === 0, 5_000, 'stored ack at the edge');
    expect(a.host.committedLsn).toBe(before);
    expect(a.host.disk.pending.length).toBe(1);
    await origin.start(originPort);
    await waitFor(() => a.host.replica.get('n') === 5 && b.host.replica.get('offline-eu') === 'x', 20_000, 'convergence after the outage');
    await waitFor(() => a.host.disk.pending.length === 0 && b.host.disk.pending.length === 0, 10_000, 'all committed');
    expect(stateOf(a.host.replica)).toEqual(stateOf(b.host.replica));
    expect(stateOf(origin.host('doc').replica)).toEqual(stateOf(a.host.replica));
  }, 40_000);

  it('changes stored at the edge while the origin is down survive an edge restart and reach the origin', async () => {
    const [a, b] = clients as [EdgeClient, EdgeClient];
    await origin.stop();
    a.host.replica.put('durable-outbox', 42);
    a.pump();
    await waitFor(() => a.host.session!.inflightBytes === 0, 5_000, 'stored ack at the edge');
    expect(a.host.disk.pending.length).toBe(1);
    await a.close();
    await b.close();
    await dev!.stop();
    dev = await startWranglerDev({ port: dev!.port, persistTo: dir, vars: { ORIGIN_URL: `http://127.0.0.1:${originPort}` } });
    await origin.start(originPort);
    // Only a client of the other region reconnects: the eu edge pushes its outbox by itself
    // (its retry alarm, due while wrangler was down, wakes it at the start).
    await b.connect(url('us'));
    await waitFor(() => origin.host('doc').replica.get('durable-outbox') === 42, 20_000, 'outbox reached the origin after the restart');
    await waitFor(() => b.host.replica.get('durable-outbox') === 42, 10_000, 'and the other region');
  }, 60_000);
});
