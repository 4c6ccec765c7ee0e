// Presence against an origin that predates it (protocol version 1 without message type
// 10), on 127.0.0.1. Decision: the version stays 1 and presence is opt-in. Such an origin
// ends the channel with the error its decoder produces (SYNC_MALFORMED "unknown sync
// message type 10"): loud, reported through onError. The client then turns presence off
// and syncs on without it: its changes are committed, no presence frame is sent again.
// (The other direction cannot break: a server sends presence only to clients that sent
// some, so a client that predates presence never receives it.)
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { NeuroplexClient } from '../../../browser/src/client.ts';
import type { WebSocketConstructor } from '../../../browser/src/transport.ts';
import { encodeMessage, peekFrameHeader } from '../../../core/src/sync/codec.ts';
import { SyncErrorCode } from '../../../core/src/sync/errors.ts';
import { MemoryKvStorage } from '../../../core/src/testing/memory-kv-storage.ts';
import { LocalNode } from '../../../server/src/node/local-node.ts';
import { OriginSync } from '../../../server/src/sync/origin-sync.ts';
import { waitFor } from '../../support/sync-origin.ts';

const WS = WebSocket as unknown as WebSocketConstructor;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

/** An origin whose decoder does not know type 10: it answers as a v1 build before presence did. */
async function oldOrigin(): Promise<{ url: string; node: LocalNode; presenceFrames: () => number }> {
  const node = await LocalNode.open({ storage: new MemoryKvStorage() });
  const sync = new OriginSync({ node });
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  let presenceFrames = 0;
  wss.on('connection', (ws) => {
    const conn = sync.open({ send: (f) => ws.send(f), close: (r) => ws.close(1011, r) });
    ws.on('message', (data: Buffer) => {
      const frame = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      const header = peekFrameHeader(frame);
      if (header?.type === 'presence') {
        presenceFrames++;
        // What an old session does with a frame it cannot decode: error, channel over.
        ws.send(encodeMessage({ type: 'error', channel: header.channel, code: SyncErrorCode.Malformed, message: 'malformed frame: unknown sync message type 10' }));
        return;
      }
      conn.receive(frame);
    });
    ws.on('close', () => conn.closed());
  });
  await new Promise((r) => wss.once('listening', r));
  cleanups.push(async () => {
    sync.close();
    for (const c of wss.clients) c.terminate();
    await new Promise((r) => wss.close(r));
  });
  return { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/v1/sync`, node, presenceFrames: () => presenceFrames };
}

describe('presence against an origin that predates it', () => {
  it('is refused loudly once, then sync goes on without presence', async () => {
    const o = await oldOrigin();
    const errors: Error[] = [];
    const c = await NeuroplexClient.connect({ url: o.url, keyspace: 'docs', WebSocket: WS, backoff: { initialMs: 20, maxMs: 100 }, networkEvents: null, onError: (e) => errors.push(e) });
    cleanups.push(() => c.close());
    c.presence.set({ name: 'ada' });
    await waitFor(() => errors.some((e) => e.message.includes('unknown sync message type 10')), 'the refusal reported');
    await c.set('k', 'v');
    await c.flushed();
    expect(o.node.stateMachine.crdtKeyspace('docs')!.replica.get('k')).toBe('v');
    c.presence.set({ name: 'ada', cursor: 2 });
    c.disconnectForTest();
    await waitFor(() => c.status === 'synced', 'synced again');
    await new Promise((r) => setTimeout(r, 200));
    expect(o.presenceFrames()).toBe(1);
    expect(c.presence.peers().size).toBe(0);
  });
});
