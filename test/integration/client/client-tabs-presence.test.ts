// Presence of tabs sharing one keyspace (browser/src/tab-presence.ts), with the fake lock
// and channel environment (test/support/fake-tabs.ts) and a real origin on 127.0.0.1: two
// tabs of one "browser" and a separate client all see each other; a follower that closes,
// or stops heartbeating, leaves for everyone; when the owner closes the follower takes over
// and presence goes on; followers see nobody while the owner is offline.
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { NeuroplexClient } from '../../../browser/src/client.ts';
import type { PresenceOptions } from '../../../browser/src/presence.ts';
import { MemoryStorage } from '../../../browser/src/storage/memory-storage.ts';
import type { TabEnvironment } from '../../../browser/src/tab-coordinator.ts';
import type { WebSocketConstructor } from '../../../browser/src/transport.ts';
import { environment, type FakeBus } from '../../support/fake-tabs.ts';
import { startOrigin, waitFor } from '../../support/sync-origin.ts';

const WS = WebSocket as unknown as WebSocketConstructor;
// Default heartbeats and timeouts (10 s, 30 s) unless a test says otherwise, so a peer seen
// to leave within a test left explicitly, not by expiry.
const fast = { minIntervalMs: 10 };
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

/**
 * An origin; `tab()` opens a tab of one browser (shared storage and tab environment: the
 * first open owns the keyspace), `other()` a client elsewhere (no tabs).
 */
async function tabsOfOneOrigin(): Promise<{ env: TabEnvironment; bus: FakeBus; tab(presence?: PresenceOptions): Promise<NeuroplexClient>; other(presence?: PresenceOptions): Promise<NeuroplexClient> }> {
  const o = await startOrigin();
  cleanups.push(() => o.stop());
  const { env, bus } = environment();
  const storage = new MemoryStorage();
  const open = async (store: MemoryStorage | 'memory', tabs: TabEnvironment | false, presence: PresenceOptions): Promise<NeuroplexClient> => {
    const c = await NeuroplexClient.connect({ url: o.syncUrl, keyspace: 'tp', storage: store, tabs, WebSocket: WS, backoff: { initialMs: 20, maxMs: 200 }, networkEvents: null, presence });
    cleanups.push(() => c.close());
    return c;
  };
  return { env, bus, tab: (presence = fast) => open(storage, env, presence), other: (presence = fast) => open('memory', false, presence) };
}

/** Each client announces its name as its presence. */
function announce(named: Record<string, NeuroplexClient>): void {
  for (const [name, c] of Object.entries(named)) c.presence.set({ name });
}

/** What `viewer` shows of each client in `others`, by name (undefined: not present). */
function names(viewer: NeuroplexClient, others: readonly NeuroplexClient[]): unknown[] {
  return others.map((o) => (viewer.presence.peers().get(o.presence.peerId)?.state as { name?: string } | undefined)?.name);
}

function sees(viewer: NeuroplexClient, others: readonly NeuroplexClient[], expected: unknown[]): () => boolean {
  return () => JSON.stringify(names(viewer, others)) === JSON.stringify(expected) && viewer.presence.peers().size === expected.filter((n) => n !== undefined).length;
}

describe('presence of tabs sharing one keyspace', () => {
  it('two tabs and another client see each other; a follower that closes leaves for everyone', async () => {
    const { env, tab, other } = await tabsOfOneOrigin();
    const a = await tab();
    const b = await tab();
    const c = await other();
    expect([a.tabRole, b.tabRole]).toEqual(['owner', 'follower']);
    let bEvents = 0;
    b.on('presence', () => bEvents++);
    announce({ a, b, c });
    await waitFor(sees(a, [b, c], ['b', 'c']), 'owner sees follower and client', 10_000, () => JSON.stringify(names(a, [b, c])));
    await waitFor(sees(b, [a, c], ['a', 'c']), 'follower sees owner and client', 10_000, () => JSON.stringify(names(b, [a, c])));
    await waitFor(sees(c, [a, b], ['a', 'b']), 'client sees both tabs', 10_000, () => JSON.stringify(names(c, [a, b])));
    expect(bEvents).toBeGreaterThanOrEqual(1);
    expect(b.presence.peers().has(b.presence.peerId)).toBe(false);

    // Updates from the follower reach both.
    b.presence.set({ name: 'b2' });
    await waitFor(sees(c, [a, b], ['a', 'b2']), 'update reaches client');
    await waitFor(sees(a, [b, c], ['b2', 'c']), 'update reaches owner');

    // A third tab is told who is present when it starts.
    const d = await tab();
    d.presence.set({ name: 'd' });
    await waitFor(sees(d, [a, b, c], ['a', 'b2', 'c']), 'new tab sees everyone');
    await waitFor(sees(b, [a, c, d], ['a', 'c', 'd']), 'follower sees the other follower');

    // Malformed presence messages on the channel are ignored.
    const stray = new env.BroadcastChannel('neuroplex:tp');
    const bogus = [
      { t: 'presence', tab: 'x', peer: -1, state: new Uint8Array([1]) },
      { t: 'presence', tab: 'x', peer: 5, state: 'no' },
      { t: 'peer', peer: 'x', state: null },
      { t: 'peers', to: null, peers: [{ peer: 5 }] },
      { t: 'bye' },
    ];
    for (const m of bogus) stray.postMessage(m);
    stray.close();
    await new Promise((r) => setTimeout(r, 50));
    expect(names(b, [a, c, d])).toEqual(['a', 'c', 'd']);
    expect(names(a, [b, c, d])).toEqual(['b2', 'c', 'd']);

    await b.close();
    await waitFor(sees(c, [a, b, d], ['a', undefined, 'd']), 'client sees the follower go');
    await waitFor(sees(a, [b, c, d], [undefined, 'c', 'd']), 'owner sees the follower go');
    await waitFor(sees(d, [a, b, c], ['a', undefined, 'c']), 'other follower sees it go');
  });

  it('when the owner closes the follower takes over and presence goes on', async () => {
    const { tab, other } = await tabsOfOneOrigin();
    const a = await tab();
    const b = await tab();
    const d = await tab();
    const c = await other();
    announce({ a, b, d, c });
    await waitFor(sees(c, [a, b, d], ['a', 'b', 'd']), 'client sees the three tabs');
    await waitFor(sees(d, [a, b, c], ['a', 'b', 'c']), 'a follower sees everyone');
    await a.close();
    await waitFor(() => b.tabRole === 'owner', 'takeover');
    // Both remaining tabs are announced again through the new owner's session.
    await waitFor(sees(c, [a, b, d], [undefined, 'b', 'd']), 'client sees the old owner go and the other tabs stay');
    await waitFor(sees(b, [a, c, d], [undefined, 'c', 'd']), 'new owner sees the client and the follower');
    await waitFor(sees(d, [a, b, c], [undefined, 'b', 'c']), 'the follower sees the new owner and the client');
    b.presence.set({ name: 'b3' });
    d.presence.set({ name: 'd3' });
    await waitFor(sees(c, [b, d], ['b3', 'd3']), 'updates go on through the new owner');
    await waitFor(sees(d, [b, c], ['b3', 'c']), 'and reach the follower');
    const e = await tab();
    e.presence.set({ name: 'e' });
    await waitFor(sees(c, [b, d, e], ['b3', 'd3', 'e']), 'a new follower of the new owner is seen');
    await waitFor(sees(e, [b, c, d], ['b3', 'c', 'd3']), 'and sees the others');
  });

  it('followers see nobody while the owner is offline, and everyone again once it is back', async () => {
    const { tab, other } = await tabsOfOneOrigin();
    const a = await tab();
    const b = await tab();
    const c = await other();
    announce({ a, b, c });
    await waitFor(sees(b, [a, c], ['a', 'c']), 'follower sees both');
    a.goOffline();
    await waitFor(() => b.presence.peers().size === 0 && a.presence.peers().size === 0, 'nobody while the owner is offline');
    await waitFor(sees(c, [a, b], [undefined, undefined]), 'the client sees both tabs go');
    a.goOnline();
    await waitFor(sees(b, [a, c], ['a', 'c']), 'follower sees both again');
    await waitFor(sees(c, [a, b], ['a', 'b']), 'client sees both tabs again');
  });

  it('heartbeats keep tabs present; a follower that goes silent (crashed) leaves after the timeout', async () => {
    const { bus, tab, other } = await tabsOfOneOrigin();
    // The tabs time out after 400 ms; the client and the origin only after 30 s, so the
    // client sees the follower go only if the owner sends its leave.
    const short = { heartbeatMs: 100, timeoutMs: 400, minIntervalMs: 10 };
    const a = await tab(short);
    const b = await tab(short);
    const c = await other({ heartbeatMs: 100, minIntervalMs: 10 });
    announce({ a, b, c });
    await waitFor(sees(c, [a, b], ['a', 'b']), 'client sees both tabs');
    await waitFor(sees(a, [b, c], ['b', 'c']), 'owner sees both');
    await waitFor(sees(b, [a, c], ['a', 'c']), 'follower sees both');
    await new Promise((r) => setTimeout(r, 1_000)); // over two tab timeouts
    expect(names(a, [b, c])).toEqual(['b', 'c']);
    expect(names(b, [a, c])).toEqual(['a', 'c']);
    // The follower's channel goes silent without a bye, as when its tab crashes.
    const channels = [...bus.channels]; // a's, then b's
    expect(channels).toHaveLength(2);
    channels[1]!.crash();
    await waitFor(sees(c, [a, b], ['a', undefined]), 'client sees the silent follower go', 5_000);
    await waitFor(sees(a, [b, c], [undefined, 'c']), 'owner drops it too');
  });
});
