// Resume by log on any node of a real 3-node origin cluster (`neuroplex start` processes on
// loopback). Log ids and positions are the same on every node, and every node stores the
// keyspace's recent deltas (its CRDT tail records), so a client that synced through node A
// and comes back through node B, which never had a session of that keyspace, or through A
// after A restarted, is sent the entries it missed: welcome in log mode, no snapshot chunk,
// and the node's /metrics count no snapshot welcome.
import { afterEach, describe, expect, it } from 'vitest';
import { NeuroplexClient } from '../../../browser/src/client.ts';
import { MemoryStorage } from '../../../browser/src/storage/memory-storage.ts';
import type { WebSocketConstructor } from '../../../browser/src/transport.ts';
import type { SyncMessage } from '../../../core/src/sync/messages.ts';
import { agreedLeader, api, createProcCluster, destroyProcCluster, type ProcCluster, type ProcNode, startNode, stopNode, until } from '../../support/process-cluster.ts';
import { receivingWebSocket } from '../../support/recording-websocket.ts';
import { stateOf } from '../../support/sync-harness.ts';
import { waitFor } from '../../support/sync-origin.ts';

const KEYSPACE = 'resume-doc';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

const syncUrl = (n: ProcNode): string => `ws://127.0.0.1:${n.port}/v1/sync`;

async function client(n: ProcNode, WS: WebSocketConstructor, storage: MemoryStorage): Promise<NeuroplexClient> {
  const c = await NeuroplexClient.connect({ url: syncUrl(n), keyspace: KEYSPACE, WebSocket: WS, storage, backoff: { initialMs: 20, maxMs: 300 }, networkEvents: null });
  cleanups.push(() => c.close());
  return c;
}

/** The cursor the client saved once it is on a real log past position 0 (bounded wait). */
async function savedCursor(storage: MemoryStorage, atLeast: number): Promise<{ logId: string; position: number }> {
  let cursor = (await storage.load(KEYSPACE)).cursor;
  for (let i = 0; i < 500 && cursor.position < atLeast; i++) {
    await new Promise((r) => setTimeout(r, 10));
    cursor = (await storage.load(KEYSPACE)).cursor;
  }
  return cursor;
}

/**
 * Waits until `n` applied as much as `of`. A node behind the client's cursor would hold its
 * hello until it catches up (OriginSync.accept, tested in origin-catch-up.test.ts); waiting
 * here keeps this test about what the node stores.
 */
async function caughtUp(n: ProcNode, of: ProcNode): Promise<void> {
  const applied = async (x: ProcNode): Promise<number> => ((await api(x, 'GET', '/v1/cluster')).json as { appliedIndex: number }).appliedIndex;
  const want = await applied(of);
  await until(async () => ((await applied(n)) >= want ? true : undefined), `${n.id} applied through ${want}`);
}

/** A node's `neuroplex_sync_welcomes_total` by mode (from its /metrics). */
async function welcomes(n: ProcNode): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${n.port}/metrics`, { signal: AbortSignal.timeout(3_000) })).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^neuroplex_sync_welcomes_total\{mode="(\w+)"\} (\d+)$/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

/** Checks that the client was resumed by log: one welcome, in log mode, and no snapshot. */
function expectResumedByLog(received: readonly SyncMessage[], logId: string): number {
  const welcomes = received.filter((m) => m.type === 'welcome');
  expect(welcomes).toHaveLength(1);
  expect(welcomes[0]).toMatchObject({ mode: 'log', logId });
  expect(received.filter((m) => m.type === 'chunk'), 'no snapshot chunk was sent').toHaveLength(0);
  return received.filter((m) => m.type === 'delta').length;
}

describe('a client resuming on another origin node, or on a restarted one', () => {
  it('is sent the log tail it missed, not a snapshot', { timeout: 90_000 }, async () => {
    const cluster: ProcCluster = await createProcCluster(3);
    cleanups.push(() => destroyProcCluster(cluster));
    await until(() => agreedLeader(cluster), 'a leader');
    const [nodeA, nodeB] = cluster.nodes as [ProcNode, ProcNode, ProcNode];

    // The client syncs through A, commits changes and leaves.
    const storage = new MemoryStorage();
    const a = await client(nodeA, receivingWebSocket().WS, storage);
    const writer = await client(nodeA, receivingWebSocket().WS, new MemoryStorage());
    await writer.set('base', 'w');
    await writer.flushed();
    await waitFor(() => a.status === 'synced' && a.replica.get('base') === 'w', 'a synced through A');
    for (let i = 0; i < 5; i++) await a.set(`a${i}`, i);
    a.text('doc').insert(0, 'hello');
    await a.flushed();
    await writer.set('seen', true);
    await writer.flushed();
    await waitFor(() => a.replica.get('seen') === true, 'a saw the writer');
    const left = await savedCursor(storage, 1);
    expect(left.position).toBeGreaterThan(0);
    await a.close();

    // More changes through A while the client is away.
    for (let i = 0; i < 4; i++) await writer.set(`missed${i}`, i);
    writer.text('doc').insert(5, ' world');
    await writer.flushed();

    // Back through B, which had no session of this keyspace.
    await caughtUp(nodeB, nodeA);
    const toB = receivingWebSocket();
    const b = await client(nodeB, toB.WS, storage);
    await waitFor(() => b.status === 'synced' && b.replica.get('missed3') === 3 && b.text('doc').toString() === 'hello world', 'the client caught up through B');
    const missedDeltas = expectResumedByLog(toB.received, left.logId);
    expect(await welcomes(nodeB), 'B welcomed one session, by log').toEqual({ log: 1 });
    expect(missedDeltas).toBeGreaterThan(0);
    expect(missedDeltas).toBeLessThanOrEqual(5); // the tail it missed, not the history
    await waitFor(() => JSON.stringify(stateOf(b.replica)) === JSON.stringify(stateOf(writer.replica)), 'the same state as the writer');
    expect(b.replica.get('a4')).toBe(4);
    const onB = await savedCursor(storage, left.position + 1);
    await b.close();

    // A restarts (its in-memory windows are gone); more changes meanwhile; back through A.
    await stopNode(cluster, nodeA, 'SIGINT');
    await writer.close();
    const writer2 = await client(nodeB, receivingWebSocket().WS, new MemoryStorage());
    await waitFor(() => writer2.status === 'synced', 'writer2 synced through B');
    await writer2.set('while-a-was-down', true);
    await writer2.flushed();
    await startNode(cluster, nodeA);
    await caughtUp(nodeA, nodeB);
    const toA = receivingWebSocket();
    const again = await client(nodeA, toA.WS, storage);
    await waitFor(() => again.status === 'synced' && again.replica.get('while-a-was-down') === true, 'the client caught up through the restarted A', 30_000);
    expect(expectResumedByLog(toA.received, onB.logId)).toBe(1);
    expect(await welcomes(nodeA), 'the restarted A welcomed one session, by log').toEqual({ log: 1 });
    expect(JSON.stringify(stateOf(again.replica))).toBe(JSON.stringify(stateOf(writer2.replica)));
  });
});
