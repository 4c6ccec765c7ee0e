// Malformed, out-of-order, unexpected and unauthorized messages end the session with a
// typed SyncProtocolError (told to the peer too) and hand nothing to apply: the replica is
// unchanged. Mutated frames fed to live sessions never throw anything else.
import { describe, expect, it } from 'vitest';
import type { ReplicaId } from '../../../core/src/clock/replica-id.ts';
import { Replica } from '../../../core/src/doc/replica.ts';
import { ClientSyncSession } from '../../../core/src/sync/client-session.ts';
import { ClientSyncState } from '../../../core/src/sync/client-state.ts';
import { fnv1a32 } from '../../../core/src/sync/checksum.ts';
import { encodeMessage } from '../../../core/src/sync/codec.ts';
import { SyncErrorCode, SyncProtocolError } from '../../../core/src/sync/errors.ts';
import { MemoryKeyspaceLog } from '../../../core/src/sync/memory-keyspace-log.ts';
import { SYNC_PROTOCOL_VERSION, type HelloMessage, type SyncMessage } from '../../../core/src/sync/messages.ts';
import { Multiplexer } from '../../../core/src/sync/multiplexer.ts';
import { ServerSyncSession } from '../../../core/src/sync/server-session.ts';
import { ClientHost, Link, ServerHost, settle, stateOf } from '../../support/sync-harness.ts';
import { SeededRandom } from '../../support/sync-random.ts';

const hello: HelloMessage = {
  type: 'hello',
  channel: 1,
  version: SYNC_PROTOCOL_VERSION,
  keyspace: 'default',
  replica: 5 as ReplicaId,
  token: '',
  resume: { mode: 'cursor', logId: '', position: 0 },
  transfer: undefined,
};

function validDelta(id = 5): Uint8Array {
  const r = new Replica({ replicaId: id as ReplicaId });
  return r.encodeDelta(r.put('k', 'v'));
}

/** A server session past its handshake, and its log's replica. */
function welcomedServer(): { session: ServerSyncSession; replica: Replica } {
  const replica = new Replica({ replicaId: 100 as ReplicaId });
  const session = new ServerSyncSession({ channel: 1, source: new MemoryKeyspaceLog(replica, 'L') });
  session.receive(hello);
  session.takeOutbox();
  return { session, replica };
}

function expectEnded(session: ServerSyncSession | ClientSyncSession, code: string): void {
  expect(session.status).toBe('closed');
  expect(session.error).toBeInstanceOf(SyncProtocolError);
  expect(session.error!.code).toBe(code);
  const { messages, effects } = session.takeOutbox();
  expect(messages.at(-1)).toMatchObject({ type: 'error', code });
  expect(effects.filter((e) => e.kind === 'deliver')).toEqual([]);
  expect(effects.at(-1)).toMatchObject({ kind: 'closed' });
}

describe('sync protocol errors', () => {
  it('a malformed delta ends the session and nothing is delivered', () => {
    const { session } = welcomedServer();
    const bytes = validDelta();
    session.receive({ type: 'delta', channel: 1, seq: 1, position: 0, bytes: bytes.subarray(0, bytes.length - 2) });
    expectEnded(session, SyncErrorCode.Malformed);
    // Later input is ignored, not applied.
    session.receive({ type: 'delta', channel: 1, seq: 2, position: 0, bytes: validDelta() });
    expect(session.takeEffects()).toEqual([]);
  });

  it('a frame that does not decode ends the session', () => {
    const { session } = welcomedServer();
    const frame = encodeMessage({ type: 'delta', channel: 1, seq: 1, position: 0, bytes: validDelta() });
    session.receive(frame.subarray(0, frame.length - 1));
    expectEnded(session, SyncErrorCode.Malformed);
  });

  it('gaps and repeats in sequence numbers are out of order', () => {
    const gap = welcomedServer().session;
    gap.receive({ type: 'delta', channel: 1, seq: 2, position: 0, bytes: validDelta() });
    expectEnded(gap, SyncErrorCode.OutOfOrder);

    const repeat = welcomedServer().session;
    repeat.receive({ type: 'delta', channel: 1, seq: 1, position: 0, bytes: validDelta() });
    expect(repeat.takeEffects().map((e) => e.kind)).toEqual(['deliver']);
    repeat.receive({ type: 'delta', channel: 1, seq: 1, position: 0, bytes: validDelta() });
    expectEnded(repeat, SyncErrorCode.OutOfOrder);

    const ack = welcomedServer().session;
    ack.receive({ type: 'ack', channel: 1, level: 'stored', seq: 3, position: 0 });
    expectEnded(ack, SyncErrorCode.OutOfOrder);
  });

  it('messages before the handshake, a second hello, or server-only messages from a client are unexpected', () => {
    const replica = new Replica({ replicaId: 100 as ReplicaId });
    const early = new ServerSyncSession({ channel: 1, source: new MemoryKeyspaceLog(replica, 'L') });
    early.receive({ type: 'delta', channel: 1, seq: 1, position: 0, bytes: validDelta() });
    expectEnded(early, SyncErrorCode.Unexpected);

    const twice = welcomedServer().session;
    twice.receive(hello);
    expectEnded(twice, SyncErrorCode.Unexpected);

    const progress = welcomedServer().session;
    progress.receive({ type: 'progress', channel: 1, position: 3, caughtUp: true });
    expectEnded(progress, SyncErrorCode.Unexpected);

    const positioned = welcomedServer().session;
    positioned.receive({ type: 'delta', channel: 1, seq: 1, position: 7, bytes: validDelta() });
    expectEnded(positioned, SyncErrorCode.Unexpected);

    const wrongChannel = welcomedServer().session;
    wrongChannel.receive({ type: 'ack', channel: 2, level: 'stored', seq: 1, position: 0 });
    expectEnded(wrongChannel, SyncErrorCode.Unexpected);
  });

  it('client side: a log position that goes backwards, a broken chunk sequence, a snapshot that does not decode', () => {
    const make = (): { s: ClientSyncSession; replica: Replica } => {
      const replica = new Replica({ replicaId: 1 as ReplicaId });
      const s = new ClientSyncSession({ channel: 1, keyspace: 'default', replica, state: new ClientSyncState(), localStoreLoaded: true });
      s.start();
      s.receive({ type: 'welcome', channel: 1, replica: 100 as ReplicaId, logId: 'L', head: 5, mode: 'log', context: undefined });
      s.takeOutbox();
      return { s, replica };
    };
    const back = make().s;
    back.receive({ type: 'delta', channel: 1, seq: 1, position: 4, bytes: validDelta(9) });
    expect(back.takeEffects().map((e) => e.kind)).toEqual(['deliver']);
    back.receive({ type: 'delta', channel: 1, seq: 2, position: 3, bytes: validDelta(9) });
    expectEnded(back, SyncErrorCode.OutOfOrder);

    const chunks = make().s;
    chunks.receive({ type: 'chunk', channel: 1, seq: 1, kind: 'snapshot', position: 5, totalBytes: 10, checksum: 1, offset: 0, bytes: new Uint8Array(4) });
    chunks.receive({ type: 'chunk', channel: 1, seq: 2, kind: 'snapshot', position: 5, totalBytes: 10, checksum: 1, offset: 5, bytes: new Uint8Array(5) });
    expectEnded(chunks, SyncErrorCode.OutOfOrder);

    const junkBytes = new Uint8Array([1, 2, 3, 4, 5, 6]);
    const junk = make();
    junk.s.receive({ type: 'chunk', channel: 1, seq: 1, kind: 'snapshot', position: 5, totalBytes: 6, checksum: fnv1a32(junkBytes), offset: 0, bytes: junkBytes });
    expectEnded(junk.s, SyncErrorCode.Malformed);
    expect(junk.s.state.transfer).toBeUndefined();
    expect(junk.replica.size).toBe(0);

    // A valid snapshot whose bytes do not match the checksum is rejected before decoding.
    const source = new Replica({ replicaId: 9 as ReplicaId });
    source.put('k', 1);
    const snap = source.encode();
    const mismatch = make();
    mismatch.s.receive({ type: 'chunk', channel: 1, seq: 1, kind: 'snapshot', position: 5, totalBytes: snap.length, checksum: fnv1a32(snap) ^ 1, offset: 0, bytes: snap });
    expectEnded(mismatch.s, SyncErrorCode.Malformed);
    expect(mismatch.s.error!.message).toMatch(/checksum/);
    expect(mismatch.replica.size).toBe(0);

    const welcomeTwice = make().s;
    welcomeTwice.receive({ type: 'welcome', channel: 1, replica: 100 as ReplicaId, logId: 'L', head: 5, mode: 'log', context: undefined });
    expectEnded(welcomeTwice, SyncErrorCode.Unexpected);
  });

  it('end to end: a corrupted delta from a client ends its session, the server replica and the other clients are unchanged', () => {
    const server = new ServerHost(100);
    const a = new ClientHost(1);
    const b = new ClientHost(2);
    const la = new Link([server]);
    const lb = new Link([server]);
    a.open(la.clientMux);
    b.open(lb.clientMux);
    a.replica.put('ok', 1);
    settle([la, lb], [server], [a, b]);
    const before = stateOf(server.replica);
    const head = server.log.head();
    // A forged frame on a's channel carrying a delta that does not decode.
    const bytes = validDelta(1);
    bytes[bytes.length - 1] = 0xff;
    la.up.push(encodeMessage({ type: 'delta', channel: a.session!.channel, seq: 2, position: 0, bytes }));
    settle([la, lb], [server], [a, b]);
    expect(server.errors.map((e) => e.code)).toEqual([SyncErrorCode.Malformed]);
    expect(a.session!.error).toMatchObject({ code: SyncErrorCode.Malformed, remote: true });
    expect(stateOf(server.replica)).toEqual(before);
    expect(server.log.head()).toBe(head);
    expect(stateOf(b.replica)).toEqual(before);
    expect(b.session!.status).toBe('synced');
  });

  it('an unauthorized client cannot push changes on its refused channel', () => {
    const server = new ServerHost(100);
    server.authorize = () => false;
    const mux = new Multiplexer({ accept: (h) => server.accept(h) });
    mux.receive(encodeMessage(hello));
    expect(mux.takeFrames().map((f) => f[1])).toEqual([3]); // refuse
    mux.receive(encodeMessage({ type: 'delta', channel: 1, seq: 1, position: 0, bytes: validDelta() }));
    server.drain();
    expect(mux.takeFrames().map((f) => f[1])).toEqual([8]); // error: no session on the channel
    expect(server.replica.size).toBe(0);
    expect(server.log.head()).toBe(0);
  });

  it('a frame too short to name its channel fails the connection and every session on it', () => {
    const server = new ServerHost(100);
    const mux = new Multiplexer({ accept: (h) => server.accept(h) });
    mux.receive(encodeMessage(hello));
    mux.receive(new Uint8Array([1]));
    expect(mux.error?.code).toBe(SyncErrorCode.Malformed);
    const [s] = [...server.sessions];
    expect(s!.status).toBe('closed');
  });

  it('fuzz: mutated server frames fed to a client session only end it with a typed error', () => {
    const seed = 0xc0ffee;
    const rnd = new SeededRandom(seed);
    // Record a real session's frames from server to client.
    const server = new ServerHost(100);
    const w = new ClientHost(2);
    const lw = new Link([server]);
    w.open(lw.clientMux);
    for (let i = 0; i < 20; i++) w.replica.put(`k${i}`, { i, s: 'v'.repeat(i * 7) });
    w.replica.counter('c').increment(4);
    w.replica.set('tags').add('x');
    settle([lw], [server], [w]);
    server.log.compact();
    w.replica.put('after', 1);
    settle([lw], [server], [w]);
    const recorder = new ClientHost(3);
    const lr = new Link([server]);
    recorder.open(lr.clientMux);
    settle([lr], [server], [recorder]);
    const frames = lr.traffic.filter((t) => t.dir === 'down').map((t) => encodeMessage(t.message as SyncMessage));
    expect(frames.length).toBeGreaterThan(3);
    const expected = stateOf(recorder.replica);
    let ended = 0;
    try {
      for (let i = 0; i < 1000; i++) {
        const replica = new Replica({ replicaId: 4 as ReplicaId });
        const s = new ClientSyncSession({ channel: 1, keyspace: 'default', replica, state: new ClientSyncState(), localStoreLoaded: true });
        s.start();
        const victim = rnd.int(frames.length);
        for (let f = 0; f < frames.length && !s.closed; f++) {
          let frame = frames[f]!;
          if (f === victim) {
            frame = new Uint8Array(frame);
            const flips = 1 + rnd.int(3);
            for (let k = 0; k < flips; k++) frame[rnd.int(frame.length)] = rnd.int(256);
            if (rnd.chance(0.2)) frame = frame.subarray(0, rnd.int(frame.length));
          }
          s.receive(frame);
          for (const e of s.takeEffects()) if (e.kind === 'deliver') replica.applyDelta(e.delta);
        }
        if (s.closed) {
          ended++;
          expect(s.error).toBeInstanceOf(SyncProtocolError);
        } else {
          // A mutation the protocol cannot see (e.g. inside a JSON string) still applies whole.
          expect(Object.keys(stateOf(replica)).length).toBeGreaterThan(0);
        }
      }
    } catch (e) {
      throw new Error(`session fuzz failed with seed ${seed}: ${String(e)}`, { cause: e });
    }
    expect(ended).toBeGreaterThan(250);
    expect(Object.keys(expected).length).toBe(23);
  });
});
