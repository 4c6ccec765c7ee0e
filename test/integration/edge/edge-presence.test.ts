// Presence through the edge in real workerd (wrangler dev) and a real origin (LocalNode +
// /v1/sync on 127.0.0.1): two clients of one region see each other (relayed by the
// Durable Object), a client of another region and a client connected straight to the
// origin see them through the origin, a clean close is seen everywhere as a leave, and
// when the origin goes away each region keeps only its own clients.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { NeuroplexClient } from '../../../browser/src/client.ts';
import type { WebSocketConstructor } from '../../../browser/src/transport.ts';
import { startWranglerDev, type WranglerDev } from '../../support/edge-harness.ts';
import { freePort } from '../../support/free-port.ts';
import { startOrigin, type TestOrigin, waitFor } from '../../support/sync-origin.ts';

const WS = WebSocket as unknown as WebSocketConstructor;

describe('presence through edge replicas and the origin', () => {
  const dir = mkdtempSync(join(tmpdir(), 'np-edge-presence-'));
  let origin: TestOrigin | undefined;
  let dev: WranglerDev | undefined;
  const clients: NeuroplexClient[] = [];

  beforeAll(async () => {
    origin = await startOrigin();
    dev = await startWranglerDev({ port: await freePort(), persistTo: dir, vars: { ORIGIN_URL: `http://127.0.0.1:${origin.port}` } });
  }, 60_000);

  afterAll(async () => {
    for (const c of clients) await c.close();
    await dev?.stop();
    await origin?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  async function client(url: string): Promise<NeuroplexClient> {
    const c = await NeuroplexClient.connect({ url, keyspace: 'room', WebSocket: WS, backoff: { initialMs: 50, maxMs: 500 }, networkEvents: null });
    clients.push(c);
    return c;
  }
  const edgeUrl = (region: string): string => `ws://127.0.0.1:${dev!.port}/v1/sync?ks=room&region=${region}`;
  const sees = (c: NeuroplexClient, other: NeuroplexClient): boolean => c.presence.peers().has(other.presence.peerId);
  const stateSeen = (c: NeuroplexClient, other: NeuroplexClient): unknown => c.presence.peers().get(other.presence.peerId)?.state;

  it('one region relays between its clients; other regions and the origin see them through the origin', async () => {
    const a = await client(edgeUrl('eu'));
    const b = await client(edgeUrl('eu'));
    const c = await client(edgeUrl('us'));
    const d = await client(origin!.syncUrl);
    a.presence.set({ name: 'ada', region: 'eu' });
    b.presence.set({ name: 'bob', region: 'eu' });
    c.presence.set({ name: 'cy', region: 'us' });
    d.presence.set({ name: 'dee', region: 'origin' });
    const all = [a, b, c, d];
    const everyoneSeesEveryone = (): boolean => all.every((x) => all.every((y) => x === y || sees(x, y)));
    await waitFor(everyoneSeesEveryone, 'everyone sees everyone', 30_000, () => all.map((x) => `${x.replica.id}: [${[...x.presence.peers().keys()].join(',')}]`).join('; '));
    expect(stateSeen(b, a)).toEqual({ name: 'ada', region: 'eu' });
    expect(stateSeen(c, a)).toEqual({ name: 'ada', region: 'eu' });
    expect(stateSeen(a, c)).toEqual({ name: 'cy', region: 'us' });
    expect(stateSeen(a, d)).toEqual({ name: 'dee', region: 'origin' });
    for (const x of all) expect(x.presence.peers().size).toBe(3);

    a.presence.set({ name: 'ada', region: 'eu', cursor: 5 });
    await waitFor(() => (stateSeen(c, a) as { cursor?: number } | undefined)?.cursor === 5 && (stateSeen(b, a) as { cursor?: number } | undefined)?.cursor === 5, 'an update reaches the same region and the other one', 15_000);

    await a.close();
    await waitFor(() => !sees(b, a) && !sees(c, a) && !sees(d, a), 'a leave reaches every region and the origin', 15_000);
    expect(sees(b, c) && sees(c, b) && sees(d, b)).toBe(true);

    // The origin goes away: each edge drops the peers its origin link announced, while a
    // client of the same region would stay (relayed by the object itself).
    const e = await client(edgeUrl('us'));
    e.presence.set({ name: 'eve', region: 'us' });
    await waitFor(() => sees(c, e) && sees(b, e), 'eve seen in both regions', 15_000);
    await origin!.stop();
    await waitFor(() => !sees(b, c) && !sees(b, e) && !sees(c, b), 'peers behind the lost origin link leave', 15_000);
    expect(sees(c, e) && sees(e, c)).toBe(true);
  }, 60_000);
});
