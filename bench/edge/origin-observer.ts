// The origin side of `npm run bench:edge`, in its own process so that its event loop does not
// queue behind the benchmark's 100 receiving sockets. Against the real origin cluster it
//  - taps the edge's link: one TCP relay per origin node (the edge's ORIGIN_URL names the
//    relays), which stamps every sync-protocol delta frame the edge sends upstream (the
//    WebSocket frames are unmasked to read the sync frame header): the edge's share;
//  - subscribes to the keyspace at the Raft leader (a sync client of its own) and stamps
//    each new value of key `k` as the leader's state machine streams it: the commit, as the
//    first node to apply it shows it to a subscriber.
// Usage: origin-observer.ts <keyspace> <leaderPort> <nodePort,nodePort,...>. Prints JSON
// lines: {"relays":[port,...]} once ready; {"up":ms} per delta frame toward the origin;
// {"k":value,"seenAt":ms} per committed value; times are wall-clock ms
// (performance.timeOrigin + performance.now(), comparable across processes).
import WebSocket from 'ws';
import type { ReplicaId } from '../../core/src/clock/replica-id.ts';
import { Replica } from '../../core/src/doc/replica.ts';
import { ClientSyncSession } from '../../core/src/sync/client-session.ts';
import { ClientSyncState } from '../../core/src/sync/client-state.ts';
import { peekFrameHeader } from '../../core/src/sync/codec.ts';
import { Multiplexer } from '../../core/src/sync/multiplexer.ts';
import { TcpProxy } from '../../test/support/tcp-proxy.ts';

const [keyspace = 'bench', leaderPortArg = '', nodesArg = ''] = process.argv.slice(2);
const now = (): number => performance.timeOrigin + performance.now();
const print = (o: unknown): void => {
  process.stdout.write(`${JSON.stringify(o)}\n`);
};

/**
 * Reads client-to-server WebSocket frames (after the HTTP upgrade request) from a byte
 * stream and calls `onDelta` when one carries a sync delta frame. Bounded by the input.
 */
class UpstreamTap {
  private buf: Buffer = Buffer.alloc(0);
  private upgraded = false;
  constructor(private readonly onDelta: () => void) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    if (!this.upgraded) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      this.upgraded = true;
      this.buf = this.buf.subarray(end + 4);
    }
    for (;;) {
      const b = this.buf;
      if (b.length < 2) return;
      const masked = (b[1]! & 0x80) !== 0;
      let len = b[1]! & 0x7f;
      let at = 2;
      if (len === 126) {
        if (b.length < 4) return;
        len = b.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        if (b.length < 10) return;
        len = Number(b.readBigUInt64BE(2));
        at = 10;
      }
      const maskAt = at;
      if (masked) at += 4;
      if (b.length < at + len) return;
      const opcode = b[0]! & 0x0f;
      if (opcode === 2 && len > 0) {
        // Enough of the payload for the sync frame header.
        const head = Buffer.from(b.subarray(at, at + Math.min(len, 16)));
        if (masked) for (let i = 0; i < head.length; i++) head[i] = head[i]! ^ b[maskAt + (i % 4)]!;
        if (peekFrameHeader(new Uint8Array(head.buffer, head.byteOffset, head.length))?.type === 'delta') this.onDelta();
      }
      this.buf = b.subarray(at + len);
    }
  }
}

/** A relay 127.0.0.1:<ephemeral> -> 127.0.0.1:<target> tapping the upstream direction. */
async function relay(target: number): Promise<TcpProxy> {
  const proxy = await TcpProxy.start({
    tap: () => {
      const tap = new UpstreamTap(() => print({ up: now() }));
      return (d) => tap.push(d);
    },
  });
  proxy.setTarget(target);
  return proxy;
}

/** A sync client of the keyspace at the leader, printing each new value of `k` as it arrives. */
async function subscribe(port: number): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/sync`);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const mux = new Multiplexer();
  const replica = new Replica({ replicaId: 999_999 as ReplicaId, keyspace });
  const session = new ClientSyncSession({ channel: mux.allocateChannel(), keyspace, replica, state: new ClientSyncState(), localStoreLoaded: true });
  mux.add(session);
  let last: unknown = undefined;
  const flush = (): void => {
    for (const f of mux.takeFrames()) ws.send(f);
  };
  ws.on('message', (data: Buffer) => {
    mux.receive(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    for (const e of session.takeEffects()) {
      if (e.kind !== 'deliver') continue;
      replica.applyDelta(e.delta);
      session.storedUpTo(e.seq);
    }
    const v = replica.get('k');
    if (v !== last) {
      last = v;
      print({ k: v, seenAt: now() });
    }
    flush();
  });
  session.start();
  flush();
  return ws;
}

const relays: TcpProxy[] = [];
for (const p of nodesArg.split(',').filter((x) => x !== '')) relays.push(await relay(Number(p)));
const subscriber = await subscribe(Number(leaderPortArg));
print({ relays: relays.map((r) => r.port) });

const stop = (): void => {
  subscriber.terminate();
  for (const r of relays) void r.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
// The parent went away: do not linger.
process.stdin.on('end', stop);
process.stdin.resume();
