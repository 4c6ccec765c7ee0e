// client.presence against a real single-node origin on 127.0.0.1: two clients see each
// other's state and its updates, a leave (set(null) or close) at once, nothing while
// offline, a re-announce after a reconnect; updates are coalesced and size-limited; and
// nothing of it reaches the origin's state (it is never stored).
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { NeuroplexClient } from '../../../browser/src/client.ts';
import type { PresencePeer } from '../../../browser/src/presence.ts';
import { MemoryStorage } from '../../../browser/src/storage/memory-storage.ts';
import type { WebSocketConstructor } from '../../../browser/src/transport.ts';
import { InvalidArgumentError } from '../../../core/src/errors.ts';
import { PresenceTooLargeError } from '../../../core/src/sync/presence.ts';
import { startOrigin, type TestOrigin, waitFor } from '../../support/sync-origin.ts';

const WS = WebSocket as unknown as WebSocketConstructor;
const fastBackoff = { initialMs: 20, maxMs: 200 };
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

async function origin(presenceTimeoutMs?: number): Promise<TestOrigin> {
  const o = await startOrigin(presenceTimeoutMs === undefined ? {} : { presenceTimeoutMs });
  cleanups.push(() => o.stop());
  return o;
}

async function client(url: string, extra: Partial<Parameters<typeof NeuroplexClient.connect>[0]> = {}): Promise<NeuroplexClient> {
  const c = await NeuroplexClient.connect({ url, keyspace: 'docs', WebSocket: WS, backoff: fastBackoff, networkEvents: null, ...extra });
  cleanups.push(() => c.close());
  return c;
}

const stateOf = (c: NeuroplexClient, other: NeuroplexClient): unknown => c.presence.peers().get(other.presence.peerId)?.state;

describe('client.presence against one origin', () => {
  it('shows the others, their updates and their leave; never me; never stored', async () => {
    const o = await origin();
    const a = await client(o.syncUrl);
    const b = await client(o.syncUrl);
    const seenByB: ReadonlyMap<string, PresencePeer>[] = [];
    b.on('presence', (peers) => seenByB.push(peers));
    a.presence.set({ name: 'ada', cursor: 3 });
    b.presence.set({ name: 'bob', cursor: 0 });
    await waitFor(() => stateOf(b, a) !== undefined && stateOf(a, b) !== undefined, 'both present');
    expect(stateOf(b, a)).toEqual({ name: 'ada', cursor: 3 });
    expect(stateOf(a, b)).toEqual({ name: 'bob', cursor: 0 });
    expect(a.presence.peers().has(a.presence.peerId)).toBe(false);
    expect(b.presence.peers().get(a.presence.peerId)?.peerId).toBe(a.presence.peerId);
    a.presence.set({ name: 'ada', cursor: 9 });
    await waitFor(() => (stateOf(b, a) as { cursor?: number } | undefined)?.cursor === 9, 'update');
    expect(seenByB.length).toBeGreaterThanOrEqual(2);
    // Ephemeral: the origin's keyspace holds nothing of it.
    expect(o.node.stateMachine.crdtKeyspace('docs')?.replica.keys('') ?? []).toEqual([]);
    a.presence.set(null);
    await waitFor(() => stateOf(b, a) === undefined, 'leave by set(null)');
    a.presence.set({ name: 'ada again' });
    await waitFor(() => stateOf(b, a) !== undefined, 'back');
    await a.close();
    await waitFor(() => b.presence.peers().size === 0, 'leave on close');
  });

  it('a client reopened on the same storage is a new peer, whom the old one leaving cannot hide', async () => {
    const o = await origin();
    const storage = new MemoryStorage();
    const b = await client(o.syncUrl);
    const first = await client(o.syncUrl, { storage });
    first.presence.set({ name: 'ada' });
    await waitFor(() => stateOf(b, first) !== undefined, 'first present');
    const oldId = first.presence.peerId;
    // No await: the next client opens while the first one's leave may still be on its way.
    const closing = first.close();
    const second = await client(o.syncUrl, { storage });
    second.presence.set({ name: 'ada, reopened' });
    await closing;
    expect(second.replica.id).toBe(first.replica.id);
    expect(second.presence.peerId).not.toBe(oldId);
    await waitFor(() => stateOf(b, second) !== undefined && !b.presence.peers().has(oldId), 'the new one present, the old one gone');
    expect(stateOf(b, second)).toEqual({ name: 'ada, reopened' });
  });

  it('a late joiner sees who is already there; coalesces a burst of updates', async () => {
    const o = await origin();
    const a = await client(o.syncUrl, { presence: { minIntervalMs: 100 } });
    await waitFor(() => a.status === 'synced', 'a synced');
    a.presence.set({ n: 0 });
    const b = await client(o.syncUrl);
    b.presence.set({ name: 'b' });
    await waitFor(() => stateOf(b, a) !== undefined, 'b sees a');
    const before = o.sync.sync.presence.stats.received;
    for (let i = 1; i <= 200; i++) a.presence.set({ n: i });
    await waitFor(() => (stateOf(b, a) as { n: number }).n === 200, 'latest wins');
    // 200 updates in one turn: the first goes at once, the rest collapse into one frame.
    expect(o.sync.sync.presence.stats.received - before).toBeLessThanOrEqual(3);
  });

  it('is empty while offline and announced again after a reconnect', async () => {
    const o = await origin();
    const a = await client(o.syncUrl);
    const b = await client(o.syncUrl);
    a.presence.set({ name: 'ada' });
    b.presence.set({ name: 'bob' });
    await waitFor(() => stateOf(b, a) !== undefined && stateOf(a, b) !== undefined, 'both present');
    a.goOffline();
    expect(a.presence.peers().size).toBe(0);
    await waitFor(() => stateOf(b, a) === undefined, 'a left while offline');
    a.goOnline();
    await waitFor(() => stateOf(b, a) !== undefined && stateOf(a, b) !== undefined, 'both present again');
    b.disconnectForTest();
    await waitFor(() => b.status === 'synced' && stateOf(a, b) !== undefined && stateOf(b, a) !== undefined, 'after a dropped socket');
  });

  it('heartbeats keep a live peer past the timeout', async () => {
    const o = await origin(400);
    const a = await client(o.syncUrl, { presence: { heartbeatMs: 100, timeoutMs: 400 } });
    const b = await client(o.syncUrl, { presence: { heartbeatMs: 100, timeoutMs: 400 } });
    a.presence.set({ name: 'ada' });
    b.presence.set({ name: 'bob' });
    await waitFor(() => stateOf(b, a) !== undefined, 'present');
    await new Promise((r) => setTimeout(r, 1000));
    expect(stateOf(b, a)).toEqual({ name: 'ada' });
    expect(o.sync.sync.presence.stats.expired).toBe(0);
  });

  it('a client that never sets a state still sees the others', async () => {
    const o = await origin();
    const a = await client(o.syncUrl);
    const watcher = await client(o.syncUrl);
    a.presence.set({ name: 'ada' });
    await waitFor(() => stateOf(watcher, a) !== undefined, 'the watcher sees a');
    expect(a.presence.peers().size).toBe(0);
  });

  it('refuses a state over the limit or not JSON with a typed error', async () => {
    const o = await origin();
    const a = await client(o.syncUrl);
    expect(() => a.presence.set({ blob: 'x'.repeat(5000) })).toThrow(PresenceTooLargeError);
    expect(() => a.presence.set({ bad: undefined as unknown as null })).toThrow(InvalidArgumentError);
    const small = await client(o.syncUrl, { presence: { maxStateBytes: 16 } });
    expect(() => small.presence.set({ name: 'a much longer name' })).toThrow(PresenceTooLargeError);
  });
});
