// The client's Presence (browser/src/presence.ts) against a fake sync link and fake timers:
// latest-wins coalescing at most one frame per interval, re-announce on every new session,
// heartbeats, expiry of silent peers, an empty view while offline, never itself.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Presence } from '../../../browser/src/presence.ts';
import type { ReplicaId } from '../../../core/src/clock/replica-id.ts';
import { decodePresenceState, encodePresenceState, PresenceTooLargeError } from '../../../core/src/sync/presence.ts';

const ME = 7 as ReplicaId;

class FakeLink {
  open = true;
  sent: { peer: number; state: unknown }[] = [];
  sendPresence(peer: ReplicaId, state: Uint8Array | undefined): boolean {
    if (!this.open) return false;
    this.sent.push({ peer, state: state === undefined ? undefined : decodePresenceState(state) });
    return true;
  }
}

let presence: Presence | undefined;
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  presence?.close();
  vi.useRealTimers();
});

function make(link: FakeLink, options = {}): Presence {
  presence = new Presence(ME, link, { heartbeatMs: 1000, timeoutMs: 3000, minIntervalMs: 50, ...options });
  return presence;
}

describe('client Presence', () => {
  it('coalesces a burst (latest wins, one frame per interval)', () => {
    const link = new FakeLink();
    const p = make(link);
    p.sessionOpened();
    expect(link.sent).toEqual([{ peer: 7, state: undefined }]); // the opt-in, before any state
    vi.advanceTimersByTime(100);
    for (let i = 1; i <= 50; i++) p.set({ i });
    expect(link.sent).toHaveLength(2);
    vi.advanceTimersByTime(49);
    expect(link.sent).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(link.sent).toEqual([{ peer: 7, state: undefined }, { peer: 7, state: { i: 1 } }, { peer: 7, state: { i: 50 } }]);
    p.set(null);
    vi.advanceTimersByTime(50);
    expect(link.sent.at(-1)).toEqual({ peer: 7, state: undefined });
  });

  it('waits for a session, re-announces after every reconnect, heartbeats while connected', () => {
    const link = new FakeLink();
    link.open = false;
    const p = make(link);
    p.set({ name: 'ada' });
    expect(link.sent).toEqual([]);
    link.open = true;
    p.sessionOpened();
    expect(link.sent).toEqual([{ peer: 7, state: { name: 'ada' } }]);
    vi.advanceTimersByTime(1000);
    expect(link.sent).toHaveLength(2); // heartbeat
    p.sessionLost();
    p.sessionOpened();
    vi.advanceTimersByTime(50);
    expect(link.sent.at(-1)).toEqual({ peer: 7, state: { name: 'ada' } });
    expect(() => p.set({ big: 'x'.repeat(5000) })).toThrow(PresenceTooLargeError);
  });

  it('shows the others (never me), drops silent ones after the timeout, and nobody while offline', () => {
    const link = new FakeLink();
    const p = make(link);
    const events: number[] = [];
    p.on((peers) => events.push(peers.size));
    p.sessionOpened();
    p.received(ME, encodePresenceState('me'));
    p.received(2 as ReplicaId, encodePresenceState({ name: 'bob' }));
    p.received(3 as ReplicaId, encodePresenceState({ name: 'cy' }));
    expect([...p.peers().keys()]).toEqual(['2', '3']);
    expect(p.peers().get('2')).toEqual({ peerId: '2', state: { name: 'bob' } });
    p.received(2 as ReplicaId, encodePresenceState({ name: 'bob' })); // heartbeat: no event
    expect(events).toEqual([1, 2]);
    for (let t = 0; t < 4; t++) {
      vi.advanceTimersByTime(1000);
      p.received(3 as ReplicaId, encodePresenceState({ name: 'cy' }));
    }
    expect([...p.peers().keys()]).toEqual(['3']);
    p.received(3 as ReplicaId, undefined);
    expect(p.peers().size).toBe(0);
    p.received(2 as ReplicaId, encodePresenceState({ name: 'bob' }));
    p.sessionLost();
    expect(p.peers().size).toBe(0);
    expect(events.at(-1)).toBe(0);
  });

  it('snapshot(): the others, and me only once my state went out (what a new tab is told)', () => {
    const link = new FakeLink();
    link.open = false;
    const p = make(link);
    p.set({ name: 'ada' });
    p.received(2 as ReplicaId, encodePresenceState({ name: 'bob' }));
    const named = (): unknown[] => p.snapshot().map((e) => [e.peer, decodePresenceState(e.state)]);
    expect(named()).toEqual([[2, { name: 'bob' }]]);
    p.sessionLost();
    expect(named()).toEqual([]);
    link.open = true;
    p.sessionOpened();
    expect(named()).toEqual([[7, { name: 'ada' }]]);
    p.received(2 as ReplicaId, encodePresenceState({ name: 'bob' }));
    expect(named()).toEqual([[2, { name: 'bob' }], [7, { name: 'ada' }]]);
    vi.advanceTimersByTime(100);
    p.set(null);
    expect(named()).toEqual([[2, { name: 'bob' }]]);
  });
});
