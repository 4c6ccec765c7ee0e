// NeuroplexClient in Node against a real single-node origin on 127.0.0.1: two clients
// converge, subscribe streams remote changes, flushed() waits for the origin's commit,
// offline writes survive a client restart on the same storage, strong operations use the
// HTTP API and fail fast offline, a wrong token never syncs.
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { NeuroplexClient } from '../../../browser/src/client.ts';
import { ConsistencyUnavailableError, NotSupportedError } from '../../../browser/src/errors.ts';
import { MemoryStorage } from '../../../browser/src/storage/memory-storage.ts';
import type { WebSocketConstructor } from '../../../browser/src/transport.ts';
import { stateOf } from '../../support/sync-harness.ts';
import { startOrigin, type TestOrigin, waitFor } from '../../support/sync-origin.ts';

const WS = WebSocket as unknown as WebSocketConstructor;
const fastBackoff = { initialMs: 20, maxMs: 200 };
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

async function origin(options: { token?: string } = {}): Promise<TestOrigin> {
  const o = await startOrigin(options);
  cleanups.push(() => o.stop());
  return o;
}

async function client(url: string | string[], extra: Partial<Parameters<typeof NeuroplexClient.connect>[0]> = {}): Promise<NeuroplexClient> {
  const c = await NeuroplexClient.connect({ url, keyspace: 'docs', WebSocket: WS, backoff: fastBackoff, ...extra });
  cleanups.push(() => c.close());
  return c;
}

describe('NeuroplexClient against one origin', () => {
  it('two clients converge; subscribe sees remote changes; flushed waits for the commit', async () => {
    const o = await origin();
    const a = await client(o.syncUrl);
    const b = await client(o.syncUrl);
    const statuses: string[] = [];
    a.on('status', (e) => statuses.push(e.status));
    await waitFor(() => a.status === 'synced' && b.status === 'synced', 'both synced');
    const changes = b.subscribe('user:*');
    await a.set('user:1', { name: 'ada' });
    await a.counter.increment('views', 3);
    await b.counter.increment('views', 2);
    await a.set.add('tags', 'x');
    a.map('profile').set('city', 'Oslo');
    a.text('doc').insert(0, 'hello');
    expect(a.unacknowledged).toBeGreaterThan(0);
    await a.flushed();
    await b.flushed();
    expect(a.unacknowledged).toBe(0);
    // Committed on the origin before acknowledged.
    expect(o.node.stateMachine.crdtKeyspace('docs')!.replica.counter('views').value).toBe(5);
    const first = await changes.next();
    expect(first.value).toMatchObject({ key: 'user:1', value: { name: 'ada' }, origin: 'remote' });
    await changes.return!();
    await waitFor(() => JSON.stringify(stateOf(a.replica)) === JSON.stringify(stateOf(b.replica)), 'convergence');
    expect(await b.counter.value('views')).toBe(5);
    expect(await b.set.values('tags')).toEqual(['x']);
    expect(b.text('doc').toString()).toBe('hello');
    expect(statuses).toContain('synced');
  });

  it('works offline, fails strong ops fast, and syncs stored changes after a restart', async () => {
    const o = await origin();
    // Nothing listens on the origin's port once it stops: the client starts offline.
    const port = o.port;
    await o.stop();
    const storage = new MemoryStorage();
    const a = await client(`ws://127.0.0.1:${port}/v1/sync`, { storage });
    await a.set('k', 1);
    await a.set.add('s', 'offline');
    expect(await a.get('k')).toBe(1);
    expect(a.unacknowledged).toBe(2);
    await expect(a.get('k', { consistency: 'strong' })).rejects.toBeInstanceOf(ConsistencyUnavailableError);
    await expect(a.set('k', 2, { consistency: 'strong' })).rejects.toBeInstanceOf(ConsistencyUnavailableError);
    expect(() => a.beginDistributedTransaction(['n1', 'n2'])).toThrow(NotSupportedError);
    expect(a.status === 'offline' || a.status === 'connecting').toBe(true);
    const id = a.replica.id;
    await a.close();
    // A restart on the same storage: the same replica, its pending changes kept.
    const storage2 = storage;
    const o2 = await origin();
    const a2 = await client(o2.syncUrl, { storage: storage2 });
    expect(a2.replica.id).toBe(id);
    expect(await a2.get('k')).toBe(1);
    expect(a2.unacknowledged).toBe(2);
    await a2.flushed();
    expect(o2.node.stateMachine.crdtKeyspace('docs')!.replica.get('k')).toBe(1);
    expect((await storage2.load('docs')).pending).toEqual([]);
    // Strong operations go through the origin's HTTP API once connected.
    await a2.set('strong-key', 'v', { consistency: 'strong' });
    expect(await a2.get('strong-key', { consistency: 'strong' })).toBe('v');
    await a2.delete('strong-key', { consistency: 'strong' });
    expect(await a2.get('strong-key', { consistency: 'strong' })).toBeUndefined();
  });

  it('reconnects after the connection drops and resumes without losing changes', async () => {
    const o = await origin();
    const a = await client(o.syncUrl);
    const b = await client(o.syncUrl);
    await waitFor(() => a.status === 'synced' && b.status === 'synced', 'both synced');
    a.disconnectForTest();
    await a.set('while-away', 1);
    await b.set('from-b', 2);
    await waitFor(() => a.status === 'synced', 'a resynced');
    await a.flushed();
    await waitFor(() => a.replica.get('from-b') === 2 && b.replica.get('while-away') === 1, 'both changes everywhere');
  });

  it('follows online/offline events', async () => {
    const o = await origin();
    const network = new EventTarget();
    const a = await client(o.syncUrl, { networkEvents: network, backoff: { initialMs: 5_000, maxMs: 5_000 } });
    await waitFor(() => a.status === 'synced', 'synced');
    network.dispatchEvent(new Event('offline'));
    expect(a.status).toBe('offline');
    await a.set('k', 1);
    await expect(a.get('k', { consistency: 'strong' })).rejects.toBeInstanceOf(ConsistencyUnavailableError);
    // `online` reconnects at once, not after the (here 5 s) backoff.
    network.dispatchEvent(new Event('online'));
    await waitFor(() => a.status === 'synced', 'synced again', 3_000);
    await a.flushed();
    expect(o.node.stateMachine.crdtKeyspace('docs')!.replica.get('k')).toBe(1);
  });

  it('app listeners that throw do not stop deliveries being stored; their errors are reported', async () => {
    const o = await origin();
    const storage = new MemoryStorage();
    const errors: string[] = [];
    const a = await client(o.syncUrl);
    const b = await client(o.syncUrl, { storage, onError: (e) => errors.push(e.message) });
    b.on('status', () => {
      throw new Error('status listener bug');
    });
    b.replica.subscribe('*', () => {
      throw new Error('change listener bug');
    });
    b.on('presence', () => {
      throw new Error('presence listener bug');
    });
    a.presence.set({ name: 'ada' });
    for (let i = 1; i <= 3; i++) await a.set('k', i);
    await a.flushed();
    await waitFor(() => b.replica.get('k') === 3 && b.status === 'synced', 'b received every change');
    // A local write whose change listener throws is still stored and sent (the listener ran
    // before the client's own delta listener, which once never heard the op).
    await b.set('fromB', 1);
    await b.flushed();
    await waitFor(() => a.replica.get('fromB') === 1, 'a received the write b made under a throwing listener');
    await b.close();
    await o.stop();
    const reopened = await client(o.syncUrl, { storage, networkEvents: null });
    expect(reopened.replica.get('k')).toBe(3);
    expect(errors).toContain('status listener bug');
    expect(errors).toContain('change listener bug');
    expect(errors).toContain('presence listener bug');
  });

  it('never syncs with a wrong token', async () => {
    const o = await origin({ token: 'right' });
    const errors: Error[] = [];
    const bad = await client(o.syncUrl, { token: 'wrong', onError: (e) => errors.push(e) });
    await bad.set('x', 1);
    await waitFor(() => errors.some((e) => e.message.includes('unauthorized')), 'a refusal');
    expect(bad.unacknowledged).toBe(1);
    expect(o.node.stateMachine.crdtKeyspace('docs')).toBeUndefined();
    const good = await client(o.syncUrl, { token: 'right' });
    await good.set('y', 1);
    await good.flushed();
  });
});
