// The edge Worker and keyspace replica Durable Object in real workerd (wrangler dev on a
// loopback port, persisted to a temp dir): HTTP errors, two clients converging through
// fan-out, bad frames closing only their own socket, auth, and state surviving a restart.
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { encodeMessage } from '../../../core/src/sync/codec.ts';
import { SYNC_PROTOCOL_VERSION } from '../../../core/src/sync/messages.ts';
import { EdgeClient, useWranglerDev, waitFor } from '../../support/edge-harness.ts';
import { stateOf } from '../../support/sync-harness.ts';


/** Opens a raw socket, sends `frames`, and resolves with the close code and reason (bounded). */
async function rawClose(url: string, frames: (string | Uint8Array)[]): Promise<{ code: number; reason: string }> {
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  for (const f of frames) ws.send(f);
  const timeout = new Promise<{ code: number; reason: string }>((resolve) => setTimeout(() => resolve({ code: -1, reason: 'timeout' }), 5_000));
  const r = await Promise.race([closed, timeout]);
  ws.terminate();
  return r;
}

/** A WebSocket upgrade the server answers with an HTTP error: its status and body. */
async function upgradeRefused(url: string): Promise<{ status: number; body: string }> {
  const ws = new WebSocket(url);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no answer')), 5_000);
    ws.once('open', () => reject(new Error('upgrade accepted')));
    ws.once('error', () => {});
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => {
        clearTimeout(t);
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
  });
}

describe('edge in workerd (wrangler dev)', () => {
  const edge = useWranglerDev();
  const clients = edge.clients;
  const syncUrl = (q = 'ks=notes&region=r1'): string => edge.syncUrl(q);

  it('answers /health and gives JSON errors for bad HTTP input', async () => {
    const base = `http://127.0.0.1:${edge.port}`;
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true });
    const missing = await fetch(`${base}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
    // The debug route exists only with EDGE_DEBUG=1 (tests of hibernation).
    const debug = await fetch(`${base}/v1/debug/replica?ks=notes&region=r1`);
    expect(debug.status).toBe(404);
    expect(await debug.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
    const noUpgrade = await fetch(`${base}/v1/sync`);
    expect(noUpgrade.status).toBe(426);
    expect(await noUpgrade.json()).toMatchObject({ error: { code: 'UPGRADE_REQUIRED' } });
    const badKs = await upgradeRefused(`ws://127.0.0.1:${edge.port}/v1/sync?ks=a%20b`);
    expect(badKs.status).toBe(400);
    expect(JSON.parse(badKs.body)).toMatchObject({ error: { code: 'BAD_REQUEST' } });
    const strong = await fetch(`${base}/v1/kv/x`, { method: 'POST', body: '{"bad json' });
    expect(strong.status).toBe(503);
    expect(await strong.json()).toMatchObject({ error: { code: 'CONSISTENCY_UNAVAILABLE' } });
  });

  it('two clients of one keyspace and region converge through fan-out', async () => {
    const a = new EdgeClient(101, 'notes');
    const b = new EdgeClient(102, 'notes');
    clients.push(a, b);
    await a.connect(syncUrl());
    await b.connect(syncUrl());
    await waitFor(() => a.synced && b.synced, 10_000, 'both synced');
    a.host.replica.put('title', 'hello');
    a.pump();
    b.host.replica.counter('views').increment(3);
    b.pump();
    await waitFor(() => b.host.replica.get('title') === 'hello' && a.host.replica.get('views') === 3, 5_000, 'fan-out');
    expect(stateOf(a.host.replica)).toEqual(stateOf(b.host.replica));
    // Without an origin the edge log is the commit point: both changes are committed.
    await waitFor(() => a.host.committedLsn >= 1 && b.host.committedLsn >= 1, 5_000, 'committed acks');
    expect(a.host.disk.pending).toEqual([]);
  });

  it('bad frames close only their own socket with a typed code; others keep syncing', async () => {
    expect(await rawClose(syncUrl(), ['{"not": "binary"'])).toMatchObject({ code: 1003 });
    expect((await rawClose(syncUrl(), [new Uint8Array([7])])).code).toBe(4400);
    const hello = encodeMessage({ type: 'hello', channel: 1, version: SYNC_PROTOCOL_VERSION, keyspace: 'notes', replica: 999 as never, token: '', resume: { mode: 'cursor', logId: '', position: 0 }, transfer: undefined });
    const badDelta = encodeMessage({ type: 'delta', channel: 1, seq: 1, position: 0, bytes: new Uint8Array([0xff, 0xff, 0xff]) });
    const r = await rawClose(syncUrl(), [hello, badDelta]);
    expect(r.code).toBe(4400);
    expect(r.reason).toContain('SYNC_MALFORMED');
    const [a, b] = clients as [EdgeClient, EdgeClient];
    a.host.replica.put('after', true);
    a.pump();
    await waitFor(() => b.host.replica.get('after') === true, 5_000, 'fan-out after bad clients');
  });

  it('state survives restarting wrangler; a wrong token is refused with 4401', async () => {
    for (const c of clients) await c.close();
    await edge.restart({ EDGE_TOKEN: 'sesame' });
    const wrong = new EdgeClient(201, 'notes');
    clients.push(wrong);
    await wrong.connect(syncUrl(), 'wrong');
    await waitFor(() => wrong.closeCode !== undefined, 5_000, 'refusal');
    expect(wrong.closeCode).toBe(4401);
    expect(wrong.host.errors[0]?.code).toBe('SYNC_REFUSED');
    // A hello without a token is refused the same way.
    const missing = new EdgeClient(204, 'notes');
    clients.push(missing);
    await missing.connect(syncUrl());
    await waitFor(() => missing.closeCode !== undefined, 5_000, 'refusal of a missing token');
    expect(missing.closeCode).toBe(4401);
    // A hello naming another keyspace than the socket's replica serves: refused, 4400.
    const otherKs = encodeMessage({ type: 'hello', channel: 1, version: SYNC_PROTOCOL_VERSION, keyspace: 'other', replica: 998 as never, token: 'sesame', resume: { mode: 'cursor', logId: '', position: 0 }, transfer: undefined });
    const refused = await rawClose(syncUrl(), [otherKs]);
    expect(refused.code).toBe(4400);
    expect(refused.reason).toContain('SYNC_REFUSED');
    const c = new EdgeClient(202, 'notes');
    clients.push(c);
    await c.connect(syncUrl(), 'sesame');
    await waitFor(() => c.synced, 10_000, 'synced after restart');
    expect(c.host.replica.get('title')).toBe('hello');
    expect(c.host.replica.get('views')).toBe(3);
    expect(c.host.replica.get('after')).toBe(true);
    // Another region of the keyspace is another replica (no origin links them here).
    const other = new EdgeClient(203, 'notes');
    clients.push(other);
    await other.connect(syncUrl('ks=notes&region=r2'), 'sesame');
    await waitFor(() => other.synced, 10_000, 'other region synced');
    expect(other.host.replica.get('title')).toBeUndefined();
  }, 60_000);
});
