// Peer transport on loopback: the messages of one Ready for one peer travel as one batch
// frame and arrive complete and in order; a malformed batch from an authenticated peer
// closes that connection (1003) and the transport keeps receiving from others.
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { type Message, MessageType, message } from '../../../core/src/raft/types.ts';
import { PEER_PATH, PeerTransport } from '../../../server/src/cluster/peer-transport.ts';
import { TcpProxy } from '../../support/tcp-proxy.ts';

const SECRET = 'peer-transport-test-secret';
const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
});

async function listening(t: PeerTransport): Promise<string> {
  const server: Server = createServer((_req, res) => res.end());
  server.on('upgrade', (req, socket, head) => t.handleUpgrade(req, socket, head));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanup.push(() => server.close());
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 20));
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
}

/** Node n1's transport (`a`, not dialing yet) and n2's, listening at `urlB`, with what n2 got. */
async function twoTransports(): Promise<{ a: PeerTransport; b: PeerTransport; got: Message[]; urlB: string }> {
  const got: Message[] = [];
  const b = new PeerTransport({ selfName: 'n2', secret: SECRET, onMessage: (m) => got.push(m) });
  const a = new PeerTransport({ selfName: 'n1', secret: SECRET, onMessage: () => {} });
  cleanup.push(() => a.close(), () => b.close());
  return { a, b, got, urlB: await listening(b) };
}

it('sends a Ready’s messages for a peer as one batch and rejects malformed batches', { timeout: 20_000 }, async () => {
  const { a, b, got, urlB } = await twoTransports();
  a.setPeer(2, urlB);
  const batch = Array.from({ length: 50 }, (_, i) => message({ type: MessageType.Append, to: 2, from: 1, term: 3, index: i, entries: [{ term: 3, index: i + 1, type: 0, data: new Uint8Array([i]) }] }));
  a.send([...batch, message({ type: MessageType.Heartbeat, to: 9, from: 1 })]); // 9: unknown peer, dropped
  await until(() => got.length === 50, '50 messages');
  expect(got.map((m) => m.index)).toEqual(batch.map((m) => m.index));
  expect(got[7]!.entries[0]!.data).toEqual(new Uint8Array([7]));
  expect(a.stats.dropped).toBe(1);
  // One frame carried the 50 messages, whether it was queued until the link was up or not.
  expect([a.stats.framesSent, a.stats.sent]).toEqual([1, 50]);
  expect([b.stats.framesReceived, b.stats.received]).toEqual([1, 50]);

  // An authenticated dial that sends a batch claiming more messages than it holds.
  const ws = new WebSocket(`${urlB.replace('http', 'ws')}${PEER_PATH}`);
  cleanup.push(() => ws.terminate());
  const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
  ws.on('message', (data: Buffer) => {
    if (data[0] === 1) {
      const mac = createHmac('sha256', SECRET).update('neuroplex-raft|').update(data.subarray(1)).update('|').update('n3').digest();
      ws.send(Buffer.concat([Buffer.from([2, 2]), Buffer.from('n3'), mac]));
    } else if (data[0] === 3) ws.send(Buffer.from([6, 200, 1, 3, 1, 2, 3])); // tag 6: a batch
  });
  expect(await closed).toBe(1003);
  expect(b.stats.rejected).toBe(1);

  // The transport still receives.
  a.send([message({ type: MessageType.Heartbeat, to: 2, from: 1, term: 3, commit: 5 })]);
  await until(() => got.length === 51, 'the heartbeat after the bad batch');
  expect(got[50]!.type).toBe(MessageType.Heartbeat);
});

/** The WebSocket frames' masking keys in what a client sent after its HTTP upgrade request (null: unmasked). */
function maskKeysOf(stream: Buffer): (number[] | null)[] {
  let at = stream.indexOf('\r\n\r\n') + 4;
  const keys: (number[] | null)[] = [];
  // Bounded: each round consumes a whole frame or stops.
  while (at + 2 <= stream.length) {
    const masked = (stream[at + 1]! & 0x80) !== 0;
    let len = stream[at + 1]! & 0x7f;
    let header = 2;
    if (len === 126) {
      len = stream.readUInt16BE(at + 2);
      header = 4;
    } else if (len === 127) {
      len = Number(stream.readBigUInt64BE(at + 2));
      header = 10;
    }
    const key = masked ? [...stream.subarray(at + header, at + header + 4)] : null;
    const end = at + header + (masked ? 4 : 0) + len;
    if (end > stream.length) break;
    keys.push(key);
    at = end;
  }
  return keys;
}

it('sends on a dialed link with a zero masking key (no XOR pass over appends on either end)', { timeout: 20_000 }, async () => {
  const { a, got, urlB } = await twoTransports();
  const chunks: Buffer[] = [];
  const proxy = await TcpProxy.start({ tap: () => (chunk) => chunks.push(chunk) });
  cleanup.push(() => void proxy.close());
  proxy.setTarget(Number(new URL(urlB).port));
  a.setPeer(2, `http://127.0.0.1:${proxy.port}`);
  const data = new Uint8Array(300).fill(0xab);
  a.send([message({ type: MessageType.Append, to: 2, from: 1, term: 1, index: 0, entries: [{ term: 1, index: 1, type: 0, data }] })]);
  await until(() => got.length === 1, 'the append');
  expect(got[0]!.entries[0]!.data).toEqual(data);
  const keys = maskKeysOf(Buffer.concat(chunks));
  expect(keys.length).toBeGreaterThanOrEqual(2); // the answer to the challenge, then the append
  // Client frames stay masked (RFC 6455 §5.1), with a key of zeros.
  expect(keys).toEqual(keys.map(() => [0, 0, 0, 0]));
});
