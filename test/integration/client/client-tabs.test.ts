// Tabs sharing one keyspace, with fakes of the Web Locks API and BroadcastChannel (one
// shared MemoryStorage stands for the origin's IndexedDB) and a real origin on 127.0.0.1:
// one tab owns the socket, the other's writes go through it and are confirmed stored, the
// owner's changes reach the other tab, and when the owner closes the other takes over from
// storage without losing a change, confirmed or not.
import { afterEach, describe, expect, it } from 'vitest';
import { NeuroplexClient } from '../../../browser/src/client.ts';
import { MemoryStorage } from '../../../browser/src/storage/memory-storage.ts';
import type { TabEnvironment } from '../../../browser/src/tab-coordinator.ts';
import type { WebSocketConstructor } from '../../../browser/src/transport.ts';
import { environment, type FakeBus } from '../../support/fake-tabs.ts';
import type { ReplicaId } from '../../../core/src/clock/replica-id.ts';
import { Replica } from '../../../core/src/doc/replica.ts';
import { recordingWebSocket } from '../../support/recording-websocket.ts';
import { startOrigin, type TestOrigin, waitFor } from '../../support/sync-origin.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

async function origin(): Promise<TestOrigin> {
  const o = await startOrigin();
  cleanups.push(() => o.stop());
  return o;
}

async function tab(url: string, storage: MemoryStorage, env: TabEnvironment | false, WS: WebSocketConstructor): Promise<NeuroplexClient> {
  const c = await NeuroplexClient.connect({ url, keyspace: 'tabs', storage, tabs: env, WebSocket: WS, backoff: { initialMs: 20, maxMs: 200 }, networkEvents: null });
  cleanups.push(() => c.close());
  return c;
}

/** Tabs of one browser on `o`: shared storage, tab environment and WebSocket class. */
function oneBrowser(o: TestOrigin): { env: TabEnvironment; bus: FakeBus; open(): Promise<NeuroplexClient> } {
  const { env, bus } = environment();
  const storage = new MemoryStorage();
  const { WS } = recordingWebSocket();
  return { env, bus, open: () => tab(o.syncUrl, storage, env, WS) };
}

describe('tabs of one origin', () => {
  it('one tab owns the socket; the other writes through it and sees its changes', async () => {
    const o = await origin();
    const { env } = environment();
    const storage = new MemoryStorage();
    const sa = recordingWebSocket();
    const sb = recordingWebSocket();
    const a = await tab(o.syncUrl, storage, env, sa.WS);
    const b = await tab(o.syncUrl, storage, env, sb.WS);
    expect(a.tabRole).toBe('owner');
    expect(b.tabRole).toBe('follower');
    expect(a.replica.id).not.toBe(b.replica.id);
    await waitFor(() => a.status === 'synced' && b.status === 'synced', 'both report synced');
    expect(b.connectedUrl).toBe(a.connectedUrl);

    await b.counter.increment('views', 2); // resolves once the owner stored it
    expect(a.replica.counter('views').value).toBe(2);
    await a.set('title', 'from a');
    await waitFor(() => b.replica.get('title') === 'from a', 'owner change reaches the follower');
    await b.flushed();
    expect(b.unacknowledged).toBe(0);
    expect(o.node.stateMachine.crdtKeyspace('tabs')!.replica.counter('views').value).toBe(2);
    // Strong operations from the follower go to the owner's origin.
    await b.set('s', 1, { consistency: 'strong' });
    expect(await a.get('s', { consistency: 'strong' })).toBe(1);
    expect(sb.sockets.length).toBe(0);
    expect(sa.sockets.length).toBeGreaterThanOrEqual(1);
  });

  it('the next tab takes over from storage when the owner closes, losing no pending change', async () => {
    const o = await origin();
    const { bus, open } = oneBrowser(o);
    const a = await open();
    const b = await open();
    await waitFor(() => a.status === 'synced', 'owner synced');
    a.goOffline();
    await a.counter.increment('views', 1); // in the owner's log only
    await b.counter.increment('views', 10); // stored by the owner, not yet synced
    bus.hold = true;
    const unconfirmed = b.set.add('tags', 'late'); // never reaches the owner
    await a.close();
    bus.release();
    await unconfirmed;
    await waitFor(() => b.tabRole === 'owner', 'takeover');
    await b.flushed();
    expect(b.unacknowledged).toBe(0);
    const state = o.node.stateMachine.crdtKeyspace('tabs')!.replica;
    expect(state.counter('views').value).toBe(11);
    expect(state.set('tags').values()).toEqual(['late']);
    // A third tab now follows b.
    const c = await open();
    expect(c.tabRole).toBe('follower');
    expect(c.replica.counter('views').value).toBe(11);
  });

  it('a third tab resends what the closed owner never confirmed to the new owner', async () => {
    const o = await origin();
    const { env, bus, open } = oneBrowser(o);
    const a = await open();
    const b = await open();
    const c = await open();
    expect([a.tabRole, b.tabRole, c.tabRole]).toEqual(['owner', 'follower', 'follower']);
    bus.hold = true;
    const write = c.counter.increment('views', 5); // held: a never sees it
    await a.close();
    bus.release();
    await write; // confirmed by b once b owns the keyspace
    expect(b.tabRole).toBe('owner');
    await c.flushed();
    expect(o.node.stateMachine.crdtKeyspace('tabs')!.replica.counter('views').value).toBe(5);
    // Garbage on the channel is ignored.
    const stray = new env.BroadcastChannel('neuroplex:tabs');
    for (const m of [null, 7, { t: 'delta', tab: 'x', seq: 1, bytes: 'not bytes' }, { t: 'change', bytes: new Uint8Array([1, 2, 3]) }, { t: 'status' }]) stray.postMessage(m);
    stray.close();
    await b.counter.increment('views', 1);
    await waitFor(() => c.replica.counter('views').value === 6, 'c still follows b');
    expect(['offline', 'connecting', 'syncing', 'synced']).toContain(c.status);
  });

  it('a snapshot from the origin (cursor from another log) is stored and reaches the other tab', async () => {
    // Switching origins (e.g. the demo's edge regions, each its own log) makes the new one
    // send a state snapshot, whose texts travel in state form; the owner applies it, stores
    // it and forwards it to the other tabs in delta form.
    const first = await origin();
    const second = await origin();
    const { WS } = recordingWebSocket();
    const writer = await tab(second.syncUrl, new MemoryStorage(), false, WS);
    writer.text('doc').insert(0, 'written at the second origin');
    writer.set.add('todos', 'one');
    await writer.flushed();

    const { env } = environment();
    const storage = new MemoryStorage();
    const a = await tab(first.syncUrl, storage, env, WS);
    await a.set('first', 1); // the first origin's log now has an id of its own
    await a.flushed();
    await a.close();
    const errors: Error[] = [];
    const owner = await NeuroplexClient.connect({ url: second.syncUrl, keyspace: 'tabs', storage, tabs: env, WebSocket: WS, backoff: { initialMs: 20, maxMs: 200 }, networkEvents: null, onError: (e) => errors.push(e) });
    cleanups.push(() => owner.close());
    const follower = await tab(second.syncUrl, storage, env, WS);
    expect([owner.tabRole, follower.tabRole]).toEqual(['owner', 'follower']);
    await waitFor(() => follower.replica.text('doc').toString() === 'written at the second origin', 'the snapshot reaches the follower tab');
    expect(follower.replica.set('todos').values()).toEqual(['one']);
    await waitFor(() => owner.status === 'synced', 'owner synced');
    await owner.close();
    const stored = await storage.load('tabs');
    const reloaded = Replica.decode(stored.replica!, { replicaId: stored.replicaId as ReplicaId });
    expect(reloaded.text('doc').toString()).toBe('written at the second origin');
    expect(errors).toEqual([]);
  });

  it('without the two APIs (Node) a client runs alone, as before', async () => {
    const o = await origin();
    const { WS } = recordingWebSocket();
    const a = await NeuroplexClient.connect({ url: o.syncUrl, keyspace: 'tabs', storage: 'memory', WebSocket: WS, networkEvents: null });
    cleanups.push(() => a.close());
    expect(a.tabRole).toBe('owner');
    await waitFor(() => a.status === 'synced', 'synced');
  });
});
