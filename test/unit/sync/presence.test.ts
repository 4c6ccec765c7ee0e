// Presence in the pure sync core: the message's codec (round trip, every malformed form a
// typed DecodeError), the sessions (opt-in on the server side, ephemeral: no sequence
// numbers, no window), resume state across a rebuild, and the PresenceTable (owners,
// leaves only from the owner, expiry by the time passed in).
import { describe, expect, it } from 'vitest';
import type { ReplicaId } from '../../../core/src/clock/replica-id.ts';
import { Writer } from '../../../core/src/codec/writer.ts';
import { Replica } from '../../../core/src/doc/replica.ts';
import { DecodeError, ErrorCode, InvalidArgumentError } from '../../../core/src/errors.ts';
import { ClientSyncSession } from '../../../core/src/sync/client-session.ts';
import { ClientSyncState } from '../../../core/src/sync/client-state.ts';
import { decodeMessage, encodeMessage, MAX_PRESENCE_BYTES } from '../../../core/src/sync/codec.ts';
import { MemoryKeyspaceLog } from '../../../core/src/sync/memory-keyspace-log.ts';
import { SYNC_PROTOCOL_VERSION, type PresenceMessage, type SyncMessage } from '../../../core/src/sync/messages.ts';
import {
  decodePresenceState,
  encodePresenceState,
  PresenceTable,
  PresenceTooLargeError,
} from '../../../core/src/sync/presence.ts';
import { ServerSyncSession } from '../../../core/src/sync/server-session.ts';

const rid = (n: number): ReplicaId => n as ReplicaId;

function pair(): { client: ClientSyncSession; server: ServerSyncSession; pump: () => void } {
  const log = new MemoryKeyspaceLog(new Replica({ replicaId: rid(100), keyspace: 'docs' }), 'log-1');
  const server = new ServerSyncSession({ channel: 1, source: log });
  const client = new ClientSyncSession({
    channel: 1,
    keyspace: 'docs',
    replica: new Replica({ replicaId: rid(7), keyspace: 'docs' }),
    state: new ClientSyncState(),
    localStoreLoaded: true,
  });
  const pump = (): void => {
    for (let i = 0; i < 100; i++) {
      const up = client.takeMessages();
      const down = server.takeMessages();
      if (up.length === 0 && down.length === 0) return;
      for (const m of up) server.receive(encodeMessage(m));
      for (const m of down) client.receive(encodeMessage(m));
    }
    throw new Error('sessions did not settle in 100 rounds');
  };
  client.start();
  pump();
  return { client, server, pump };
}

const presenceEffects = (s: ClientSyncSession | ServerSyncSession) => s.takeEffects().filter((e) => e.kind === 'presence');

describe('presence message codec', () => {
  it('round-trips a state and a leave', () => {
    const state = encodePresenceState({ name: 'ada', cursor: { index: 3 }, color: '#f0a' });
    for (const m of [
      { type: 'presence', channel: 3, peer: rid(42), state },
      { type: 'presence', channel: 1, peer: rid(Number.MAX_SAFE_INTEGER), state: undefined },
    ] satisfies PresenceMessage[]) {
      const back = decodeMessage(encodeMessage(m)) as PresenceMessage;
      expect(back).toEqual(m);
    }
    expect(decodePresenceState(state)).toEqual({ name: 'ada', cursor: { index: 3 }, color: '#f0a' });
  });

  const frame = (body: (w: Writer) => void): Uint8Array => {
    const w = new Writer(64);
    w.u8(SYNC_PROTOCOL_VERSION);
    w.u8(10);
    w.varuint(1);
    body(w);
    return w.finish();
  };
  const fails = (bytes: Uint8Array, code: string): void => {
    try {
      decodeMessage(bytes);
    } catch (e) {
      expect(e).toBeInstanceOf(DecodeError);
      expect((e as DecodeError).code).toBe(code);
      return;
    }
    throw new Error('decoded a malformed presence frame');
  };

  it('rejects malformed frames with a typed DecodeError', () => {
    fails(frame((w) => w.varuint(0)), ErrorCode.DecodeInvalid); // replica id 0
    fails(frame((w) => { w.varuint(5); w.u8(2); }), ErrorCode.DecodeInvalid); // flag not 0/1
    fails(frame((w) => { w.varuint(5); w.u8(1); }), ErrorCode.DecodeTruncated); // no state
    fails(frame((w) => { w.varuint(5); w.u8(1); w.bytes(new Uint8Array([99])); }), ErrorCode.DecodeType); // not JSON
    fails(frame((w) => { w.varuint(5); w.u8(1); w.bytes(new Uint8Array([0, 0])); }), ErrorCode.DecodeInvalid); // two values
    fails(frame((w) => { w.varuint(5); w.u8(1); w.bytes(new Uint8Array(MAX_PRESENCE_BYTES + 1)); }), ErrorCode.DecodeTooLarge);
    fails(frame((w) => { w.varuint(5); w.u8(0); w.u8(0); }), ErrorCode.DecodeInvalid); // trailing byte
  });

  it('encodePresenceState: typed errors for too large or not JSON', () => {
    expect(() => encodePresenceState({ s: 'x'.repeat(MAX_PRESENCE_BYTES) })).toThrow(PresenceTooLargeError);
    expect(() => encodePresenceState({ s: 'x'.repeat(100) }, 50)).toThrow(PresenceTooLargeError);
    expect(() => encodePresenceState(Number.NaN)).toThrow(InvalidArgumentError);
  });
});

describe('presence in the sessions', () => {
  it('client → server → client, outside the window and the sequence numbers', () => {
    const { client, server, pump } = pair();
    server.takeEffects();
    client.takeEffects();
    // The server does not send presence before the client showed it speaks it.
    expect(server.presenceEnabled).toBe(false);
    expect(server.sendPresence(rid(9), encodePresenceState('x'))).toBe(false);
    const state = encodePresenceState({ name: 'ada' });
    expect(client.sendPresence(rid(7), state)).toBe(true);
    pump();
    expect(presenceEffects(server)).toEqual([{ kind: 'presence', peer: rid(7), state, first: true }]);
    expect(server.presenceEnabled).toBe(true);
    expect(server.sendPresence(rid(9), state)).toBe(true);
    expect(server.sendPresence(rid(9), undefined)).toBe(true);
    pump();
    expect(presenceEffects(client)).toEqual([
      // `first` only means something to a server (the client may send from the welcome on).
      { kind: 'presence', peer: rid(9), state, first: false },
      { kind: 'presence', peer: rid(9), state: undefined, first: false },
    ]);
    client.sendPresence(rid(7), undefined);
    pump();
    expect(presenceEffects(server)).toEqual([{ kind: 'presence', peer: rid(7), state: undefined, first: false }]);
    expect(client.inflightBytes).toBe(0);
    expect(server.inflightBytes).toBe(0);
    expect(client.closed || server.closed).toBe(false);
  });

  it('presence before the handshake ends the session as unexpected', () => {
    const log = new MemoryKeyspaceLog(new Replica({ replicaId: rid(100), keyspace: 'docs' }), 'log-1');
    const server = new ServerSyncSession({ channel: 1, source: log });
    server.receive({ type: 'presence', channel: 1, peer: rid(7), state: undefined } satisfies SyncMessage);
    expect(server.closed).toBe(true);
    expect(server.error?.code).toBe('SYNC_UNEXPECTED');
    const client = new ClientSyncSession({ channel: 1, keyspace: 'docs', replica: new Replica({ replicaId: rid(7), keyspace: 'docs' }), state: new ClientSyncState() });
    expect(client.sendPresence(rid(7), undefined)).toBe(false); // not welcomed: nothing sent
    client.start();
    client.receive({ type: 'presence', channel: 1, peer: rid(9), state: undefined });
    expect(client.error?.code).toBe('SYNC_UNEXPECTED');
  });

  it('a malformed presence frame ends only that session with SYNC_MALFORMED', () => {
    const { server } = pair();
    server.receive(new Uint8Array([1, 10, 1, 5, 1, 1, 99]));
    expect(server.error?.code).toBe('SYNC_MALFORMED');
  });

  it('the server remembers across a rebuild (resumeState) whether its client speaks presence', () => {
    const { client, server, pump } = pair();
    client.sendPresence(rid(7), encodePresenceState(1));
    pump();
    const saved = server.resumeState()!;
    expect(saved.presence).toBe(true);
    const log = new MemoryKeyspaceLog(new Replica({ replicaId: rid(100), keyspace: 'docs' }), 'log-1');
    expect(ServerSyncSession.resume({ channel: 1, source: log }, saved).presenceEnabled).toBe(true);
    expect(ServerSyncSession.resume({ channel: 1, source: log }, { ...saved, presence: false }).presenceEnabled).toBe(false);
  });
});

describe('PresenceTable', () => {
  const s = (v: number): Uint8Array => encodePresenceState(v);

  it('reports changes, not heartbeats; a leave counts only from the owner', () => {
    const t = new PresenceTable<string>(1000);
    expect(t.apply(rid(1), s(1), 'a', 0)).toBe(true);
    expect(t.apply(rid(1), s(1), 'a', 10)).toBe(false); // heartbeat
    expect(t.apply(rid(1), s(2), 'a', 20)).toBe(true);
    // The client moved to session b; a's late leave does not remove it.
    expect(t.apply(rid(1), s(2), 'b', 30)).toBe(false);
    expect(t.apply(rid(1), undefined, 'a', 40)).toBe(false);
    expect(t.get(rid(1))?.owner).toBe('b');
    expect(t.removeOwner('a')).toEqual([]);
    expect(t.apply(rid(1), undefined, 'b', 50)).toBe(true);
    expect(t.size).toBe(0);
  });

  it('removes an owner’s peers and expires the silent ones by the time passed in', () => {
    const t = new PresenceTable<string>(1000);
    t.apply(rid(1), s(1), 'a', 0);
    t.apply(rid(2), s(2), 'a', 0);
    t.apply(rid(3), s(3), 'b', 0);
    expect(t.removeOwner('a').sort()).toEqual([1, 2]);
    t.apply(rid(4), s(4), 'b', 600);
    expect(t.expire(999)).toEqual([]);
    expect(t.expire(1000)).toEqual([3]);
    t.apply(rid(4), s(4), 'b', 1500); // heartbeat refreshes
    expect(t.expire(2000)).toEqual([]);
    expect(t.expire(2500)).toEqual([4]);
  });
});
