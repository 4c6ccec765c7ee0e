// Clients against a real 3-node Raft cluster in process (127.0.0.1, real WebSockets):
// concurrent offline edits converge on both clients and every node; killing the node a
// client is connected to moves it to another, and nothing it saw acknowledged is lost.
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { NeuroplexClient } from '../../../browser/src/client.ts';
import { MemoryStorage } from '../../../browser/src/storage/memory-storage.ts';
import type { WebSocketConstructor } from '../../../browser/src/transport.ts';
import { type ClusterMember, eventually, leaderOf, startCluster, stopCluster, stopMember } from '../../support/raft-cluster.ts';
import { stateOf } from '../../support/sync-harness.ts';
import { waitFor } from '../../support/sync-origin.ts';

const WS = WebSocket as unknown as WebSocketConstructor;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

function syncUrl(m: ClusterMember): string {
  return `${m.info.url.replace('http://', 'ws://')}/v1/sync`;
}

async function cluster(): Promise<ClusterMember[]> {
  const members = await startCluster(3);
  cleanups.push(() => stopCluster(members));
  await eventually(() => leaderOf(members), 'a leader');
  return members;
}

/** Session and socket errors the clients reported (for failure messages). */
const errors: string[] = [];

async function client(urls: string[]): Promise<NeuroplexClient> {
  const c = await NeuroplexClient.connect({
    url: urls,
    keyspace: 'shared',
    storage: new MemoryStorage(),
    WebSocket: WS,
    backoff: { initialMs: 20, maxMs: 300 },
    onError: (e) => errors.push(e.message),
  });
  cleanups.push(() => c.close());
  return c;
}

function nodeState(m: ClusterMember): string {
  const ks = m.node!.stateMachine.crdtKeyspace('shared');
  return JSON.stringify(ks === undefined ? {} : stateOf(ks.replica));
}

describe('clients and a 3-node origin cluster', () => {
  it('converge after concurrent offline edits', { timeout: 30_000 }, async () => {
    const members = await cluster();
    const a = await client([syncUrl(members[0]!)]);
    const b = await client([syncUrl(members[1]!)]);
    await a.set('title', 'base');
    a.text('doc').insert(0, 'base');
    await a.flushed();
    await waitFor(() => b.text('doc').toString() === 'base', 'b has the base state');

    a.goOffline();
    b.goOffline();
    // Concurrent edits of the same keys while both are offline.
    await a.set('title', 'from a');
    await b.set('title', 'from b');
    await a.counter.increment('votes', 2);
    await b.counter.increment('votes', 5);
    await a.set.add('tags', 'a-tag');
    await b.set.add('tags', 'b-tag');
    await b.set.remove('tags', 'a-tag'); // b never saw a's add: a's add survives
    a.text('doc').insert(0, 'A:');
    b.text('doc').insert(4, ':B');
    a.map('cfg').set('x', 1);
    b.map('cfg').set('y', 2);
    await a.delete('gone-never-existed');
    expect(a.status).toBe('offline');
    expect(a.unacknowledged).toBeGreaterThan(0);

    a.goOnline();
    b.goOnline();
    await a.flushed();
    await b.flushed();
    await waitFor(() => JSON.stringify(stateOf(a.replica)) === JSON.stringify(stateOf(b.replica)), 'a and b converge');
    const s = stateOf(a.replica);
    expect(s.votes).toBe(7);
    expect(s.tags).toEqual(['"a-tag"', '"b-tag"']);
    expect(a.text('doc').toString()).toBe('A:base:B');
    expect(s.cfg).toEqual({ x: 1, y: 2 });
    expect(['from a', 'from b']).toContain(s.title);
    // Every node holds the same committed state as the clients.
    const want = JSON.stringify(s);
    await waitFor(() => members.every((m) => nodeState(m) === want), 'every node has the state');
  });

  it('a client whose node dies moves to another and loses nothing acknowledged', { timeout: 40_000 }, async () => {
    const members = await cluster();
    // The client connects to the leader first: killing it also loses the leader, so batches
    // in flight are cut off mid-commit, the hardest case.
    const leader = await eventually(() => leaderOf(members), 'a leader');
    const order = [leader, ...members.filter((m) => m !== leader)];
    const urls = order.map(syncUrl);
    const a = await client(urls);
    const watcher = await client([urls[2]!]);
    await waitFor(() => a.status === 'synced' && a.connectedUrl === urls[0], 'a synced on the leader');
    const acknowledged: string[] = [];
    for (let i = 0; i < 20; i++) await a.set(`before:${i}`, i);
    await a.flushed();
    for (let i = 0; i < 20; i++) acknowledged.push(`before:${i}`);
    // Writes in flight while n1 crashes: they stay pending and are resent elsewhere.
    for (let i = 0; i < 20; i++) await a.set(`during:${i}`, i);
    await stopMember(leader);
    for (let i = 0; i < 20; i++) await a.set(`after:${i}`, i);
    await waitFor(() => a.connectedUrl !== undefined && a.connectedUrl !== urls[0], 'a reconnected to another node', 20_000, () =>
      JSON.stringify({ status: a.status, url: a.connectedUrl, unacknowledged: a.unacknowledged, errors: errors.slice(-5), leaders: members.map((m) => m.node?.cluster().leader) }),
    );
    await a.flushed();
    for (let i = 0; i < 20; i++) acknowledged.push(`during:${i}`, `after:${i}`);
    const alive = order.slice(1);
    await waitFor(
      () => alive.every((m) => acknowledged.every((k) => m.node!.stateMachine.crdtKeyspace('shared')?.replica.has(k) === true)),
      'every acknowledged change on the surviving nodes',
      20_000,
    );
    await waitFor(() => acknowledged.every((k) => watcher.replica.has(k)), 'the other client sees them all', 20_000);
    expect(a.unacknowledged).toBe(0);
  });
});
