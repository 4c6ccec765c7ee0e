// The frame batcher: the messages one turn sends leave in one socket write, and a real `ws`
// peer reads every one of them, in order, both ways: unmasked from a server, masked (as
// RFC 6455 requires) from a client, across the 7-bit, 16-bit and 64-bit length forms.
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { FrameBatcher } from '../../../server/src/client/frame-batcher.ts';

const closers: (() => void)[] = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});

async function pair(): Promise<{ server: WebSocket; client: WebSocket }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', r));
  const accepted = new Promise<WebSocket>((r) => wss.once('connection', r));
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, { perMessageDeflate: false });
  await new Promise<void>((r, j) => {
    client.once('open', () => r());
    client.once('error', j);
  });
  const server = await accepted;
  closers.push(() => {
    client.terminate();
    wss.close();
  });
  return { server, client };
}

const SIZES = [0, 1, 125, 126, 300, 65_535, 65_536, 200_000];
function payload(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

async function roundTrip(from: WebSocket, to: WebSocket, masked: boolean): Promise<void> {
  const got: Buffer[] = [];
  const all = new Promise<void>((r) =>
    to.on('message', (d: Buffer, isBinary: boolean) => {
      expect(isBinary).toBe(true);
      got.push(d);
      if (got.length === SIZES.length * 2) r();
    }),
  );
  const b = new FrameBatcher(from, { masked });
  for (let round = 0; round < 2; round++) for (const n of SIZES) b.send(payload(n, round));
  expect(b.stats.writes).toBe(0); // nothing leaves before the turn ends
  await all;
  expect(b.stats).toEqual({ writes: 1, messages: SIZES.length * 2 });
  let k = 0;
  for (let round = 0; round < 2; round++) {
    for (const n of SIZES) expect(Buffer.from(payload(n, round)).equals(got[k++]!), `message ${k} (${n} bytes)`).toBe(true);
  }
}

describe('FrameBatcher', () => {
  it('server to client: one write, every message intact', async () => {
    const { server, client } = await pair();
    await roundTrip(server, client, false);
  });

  it('client to server: masked frames that ws accepts, one write', async () => {
    const { server, client } = await pair();
    await roundTrip(client, server, true);
  });

  it('drops messages on a closed connection instead of writing after the close', async () => {
    const { server, client } = await pair();
    const b = new FrameBatcher(server, { masked: false });
    server.close();
    b.send(payload(10, 0));
    await new Promise((r) => setImmediate(r));
    expect(b.stats).toEqual({ writes: 0, messages: 0 });
    await new Promise((r) => client.once('close', r));
  });
});
