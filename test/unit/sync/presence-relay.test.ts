// The pure presence relay shared by origin nodes and edge replicas: relays to every other
// session, tells a session that first speaks presence who is here, honours owners for
// leaves, prefers a live local session over an upstream's view, and expires by the time
// passed in. Also the origin's cluster frame (encode, decode, malformed → DecodeError).
import { describe, expect, it } from 'vitest';
import type { ReplicaId } from '../../../core/src/clock/replica-id.ts';
import { Replica } from '../../../core/src/doc/replica.ts';
import { DecodeError } from '../../../core/src/errors.ts';
import { ClientSyncSession } from '../../../core/src/sync/client-session.ts';
import { ClientSyncState } from '../../../core/src/sync/client-state.ts';
import { encodeMessage } from '../../../core/src/sync/codec.ts';
import { MemoryKeyspaceLog } from '../../../core/src/sync/memory-keyspace-log.ts';
import type { PresenceMessage } from '../../../core/src/sync/messages.ts';
import { encodePresenceState } from '../../../core/src/sync/presence.ts';
import { PresenceRelay } from '../../../core/src/sync/presence-relay.ts';
import { ServerSyncSession } from '../../../core/src/sync/server-session.ts';
import { decodeClusterPresence, encodeClusterPresence } from '../../../server/src/sync/origin-presence.ts';

const rid = (n: number): ReplicaId => n as ReplicaId;
const log = new MemoryKeyspaceLog(new Replica({ replicaId: rid(100), keyspace: 'docs' }), 'log-1');

/** A welcomed server session for client `id` (presence not yet spoken). */
function serverSession(id: number): ServerSyncSession {
  const server = new ServerSyncSession({ channel: 1, source: log });
  const client = new ClientSyncSession({ channel: 1, keyspace: 'docs', replica: new Replica({ replicaId: rid(id), keyspace: 'docs' }), state: new ClientSyncState(), localStoreLoaded: true });
  client.start();
  for (const m of client.takeMessages()) server.receive(encodeMessage(m));
  server.takeMessages();
  server.takeEffects();
  return server;
}

/** The session receives a presence frame from its client (opting in), as the shells see it. */
function speak(s: ServerSyncSession, peer: number, state: Uint8Array | undefined): { first: boolean } {
  s.receive({ type: 'presence', channel: 1, peer: rid(peer), state });
  const e = s.takeEffects().find((x) => x.kind === 'presence')!;
  return { first: e.kind === 'presence' && e.first };
}

const sent = (s: ServerSyncSession): { peer: number; state: Uint8Array | undefined }[] =>
  (s.takeMessages().filter((m) => m.type === 'presence') as PresenceMessage[]).map((m) => ({ peer: m.peer, state: m.state }));

describe('PresenceRelay', () => {
  it('relays to the other sessions that speak presence and greets a newcomer with who is here', () => {
    const a = serverSession(1);
    const b = serverSession(2);
    const c = serverSession(3); // never speaks presence: is never sent any
    const relay = new PresenceRelay({ sessionsOf: () => [a, b, c], timeoutMs: 1000 });
    const sa = encodePresenceState({ name: 'a' });
    const fa = speak(a, 1, sa);
    expect(relay.fromSession('docs', a, rid(1), sa, fa.first, 0)).toEqual({ keyspace: 'docs', peer: 1, state: sa });
    expect(sent(a)).toEqual([]);
    expect(sent(c)).toEqual([]);
    const sb = encodePresenceState({ name: 'b' });
    const fb = speak(b, 2, sb);
    relay.fromSession('docs', b, rid(2), sb, fb.first, 10);
    expect(sent(b)).toEqual([{ peer: 1, state: sa }]);
    expect(sent(a)).toEqual([{ peer: 2, state: sb }]);
    expect(sent(c)).toEqual([]);
    expect(new Set(relay.takeTouched())).toEqual(new Set([a, b]));
    // A session ending: its peers leave everywhere, and upstream is told.
    expect(relay.sessionGone('docs', a)).toEqual([{ keyspace: 'docs', peer: 1, state: undefined }]);
    expect(sent(b)).toEqual([{ peer: 1, state: undefined }]);
  });

  it('leaves only from the owner; a live local session wins over upstream; upstream loss and expiry', () => {
    const a = serverSession(1);
    const b = serverSession(2);
    const relay = new PresenceRelay({ sessionsOf: () => [a, b], timeoutMs: 1000 });
    const s1 = encodePresenceState(1);
    relay.fromSession('docs', a, rid(1), s1, speak(a, 1, s1).first, 0);
    speak(b, 2, undefined);
    sent(b);
    // A stale leave from upstream for a peer connected here is ignored; so is a leave from b.
    relay.fromUpstream('docs', 'node:n2', rid(1), undefined, 5);
    expect(relay.fromSession('docs', b, rid(1), undefined, false, 5)).toBeUndefined();
    expect(relay.entries('docs').map((e) => e.peer)).toEqual([1]);
    // Upstream peers reach local sessions and leave with their upstream.
    relay.fromUpstream('docs', 'origin', rid(9), s1, 10);
    expect(sent(a)).toEqual([{ peer: 9, state: s1 }]);
    expect(relay.localEntries('docs').map((e) => e.peer)).toEqual([1]);
    relay.upstreamGone('origin');
    expect(sent(a)).toEqual([{ peer: 9, state: undefined }]);
    // Nobody heard from for the timeout is dropped.
    expect(relay.expire(999)).toBe(0);
    expect(relay.expire(1000)).toBe(1);
    expect(sent(b)).toEqual([{ peer: 9, state: s1 }, { peer: 9, state: undefined }, { peer: 1, state: undefined }]);
  });
});

describe('origin cluster presence frame', () => {
  it('round-trips and rejects malformed frames with DecodeError', () => {
    const state = encodePresenceState({ x: 1 });
    for (const p of [{ keyspace: 'docs', peer: rid(5), state }, { keyspace: 'k', peer: rid(7), state: undefined }]) {
      expect(decodeClusterPresence(encodeClusterPresence(p))).toEqual(p);
    }
    const good = encodeClusterPresence({ keyspace: 'docs', peer: rid(5), state });
    expect(() => decodeClusterPresence(good.subarray(0, good.length - 1))).toThrow(DecodeError);
    expect(() => decodeClusterPresence(new Uint8Array([2, ...good.subarray(1)]))).toThrow(DecodeError);
    const notJson = encodeClusterPresence({ keyspace: 'docs', peer: rid(5), state: new Uint8Array([77]) });
    expect(() => decodeClusterPresence(notJson)).toThrow(DecodeError);
    expect(() => decodeClusterPresence(new Uint8Array([...good, 0]))).toThrow(DecodeError);
  });
});
