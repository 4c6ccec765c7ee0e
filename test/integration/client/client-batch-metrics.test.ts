// Batches, replicated deletes and metrics of NeuroplexClient against real origins on
// 127.0.0.1: a batch commits all or nothing and a failed ifVersion names its key;
// delete({ replicas }) waits for members of a real 3-node cluster and refuses more replicas
// than the cluster has; metrics() reports latency, committed convergence and conflicts; a
// change received through a delta stream reaches the origin through the receiver.
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { NeuroplexClient } from '../../../browser/src/client.ts';
import { BatchConflictError, ConsistencyUnavailableError, NotEnoughReplicasError } from '../../../browser/src/errors.ts';
import type { WebSocketConstructor } from '../../../browser/src/transport.ts';
import { type ClusterMember, eventually, leaderOf, startCluster, stopCluster } from '../../support/raft-cluster.ts';
import { getRequestListener } from '@hono/node-server';
import { createOriginApp } from '../../../server/src/http/app.ts';
import { startOrigin, waitFor } from '../../support/sync-origin.ts';

const WS = WebSocket as unknown as WebSocketConstructor;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

async function client(url: string | string[]): Promise<NeuroplexClient> {
  const c = await NeuroplexClient.connect({ url, keyspace: 'docs', WebSocket: WS, backoff: { initialMs: 20, maxMs: 200 }, networkEvents: null });
  cleanups.push(() => c.close());
  return c;
}

describe('batches and metrics against one origin', () => {
  it('commits a batch atomically, names the key of a failed precondition, and fails fast offline', async () => {
    const o = await startOrigin();
    cleanups.push(() => o.stop());
    const a = await client(o.syncUrl);
    await waitFor(() => a.status === 'synced', 'synced');
    const r = await a.executeBatch(a.createBatch().set('k1', 1).set('k2', { v: 2 }, { ifVersion: 0 }).get('k1'));
    expect(r.results.map((x) => x.op)).toEqual(['put', 'put', 'get']);
    expect(r.results[2]).toMatchObject({ key: 'k1', found: true, value: 1 });
    expect(await a.get('k2', { consistency: 'strong' })).toEqual({ v: 2 });
    const k1Version = r.results[0]!.version!;

    // k2 exists, so ifVersion 0 fails: nothing of the batch applies.
    const failing = a.createBatch().set('k1', 'changed', { ifVersion: k1Version }).delete('k3').set('k2', 'x', { ifVersion: 0 });
    const err = await a.executeBatch(failing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BatchConflictError);
    expect((err as BatchConflictError).key).toBe('k2');
    expect((err as BatchConflictError).version).toBeGreaterThan(0);
    expect(await a.get('k1', { consistency: 'strong' })).toBe(1);

    // replicas: a single node has one member.
    await a.set('s', 1, { consistency: 'strong' });
    await a.delete('s', { consistency: 'strong', replicas: 1 });
    expect(await a.get('s', { consistency: 'strong' })).toBeUndefined();
    await expect(a.delete('s', { replicas: 2 })).rejects.toBeInstanceOf(NotEnoughReplicasError);

    a.goOffline();
    await expect(a.executeBatch(a.createBatch().set('k1', 9))).rejects.toBeInstanceOf(ConsistencyUnavailableError);
    await expect(a.delete('k1', { replicas: 1 })).rejects.toBeInstanceOf(ConsistencyUnavailableError);
    const m = a.metrics();
    expect(m.latencyMs.strong.count).toBeGreaterThanOrEqual(8);
    expect(m.latencyMs.strong.p99).toBeGreaterThan(0);
  });

  it('reports committed convergence and a concurrent register write as a conflict', async () => {
    const o = await startOrigin();
    cleanups.push(() => o.stop());
    const a = await client(o.syncUrl);
    const b = await client(o.syncUrl);
    await waitFor(() => a.status === 'synced' && b.status === 'synced', 'synced');
    a.goOffline();
    b.goOffline();
    await a.set('title', 'from a');
    await b.set('title', 'from b');
    expect(a.metrics().unacknowledged).toBe(1);
    a.goOnline();
    await a.flushed();
    b.goOnline();
    await b.flushed();
    await waitFor(() => b.metrics().conflicts.remoteWrites > 0 && a.metrics().conflicts.remoteWrites > 0, 'remote writes');
    await waitFor(() => a.replica.get('title') === b.replica.get('title'), 'convergence');
    const ma = a.metrics();
    const mb = b.metrics();
    expect(ma.convergence.committedMs.count).toBe(1);
    expect(ma.unacknowledged).toBe(0);
    // Whichever learned of the other's write after writing its own saw the race.
    expect(ma.conflicts.concurrent + mb.conflicts.concurrent).toBeGreaterThanOrEqual(1);
    expect(ma.latencyMs.causal.count).toBe(1);
    expect(mb.convergence.remoteVisibleMs.count + ma.convergence.remoteVisibleMs.count).toBeGreaterThanOrEqual(1);
  });
});

describe('delete with replicas on a 3-node cluster', () => {
  it('waits for N members to apply the delete (strong and CRDT), refuses N above the cluster size', async () => {
    const members: ClusterMember[] = await startCluster(3);
    cleanups.push(() => stopCluster(members));
    // The support cluster serves sync and peers only: add the origin HTTP API to each server.
    for (const m of members) {
      const { app } = createOriginApp({ node: m.node! });
      m.server.removeAllListeners('request');
      m.server.on('request', getRequestListener(app.fetch));
    }
    await eventually(() => leaderOf(members), 'a leader');
    const url = `${members[0]!.info.url.replace('http://', 'ws://')}/v1/sync`;
    const a = await client(url);
    await waitFor(() => a.status === 'synced', 'synced');
    await a.set('gone', 1, { consistency: 'strong' });
    await a.delete('gone', { consistency: 'strong', replicas: 3 });
    for (const m of members) expect(await (await fetch(`${m.info.url}/v1/kv/gone?ks=docs&consistency=eventual`)).status).toBe(404);
    await a.set('crdt', 'x');
    await a.delete('crdt', { replicas: 3 });
    for (const m of members) expect(m.node!.stateMachine.crdtKeyspace('docs')!.replica.has('crdt')).toBe(false);
    await expect(a.delete('crdt', { replicas: 4 })).rejects.toBeInstanceOf(NotEnoughReplicasError);
  });
});

describe('delta streams and the origin', () => {
  it('a change from a peer that never connects reaches the origin through the receiver', async () => {
    const o = await startOrigin();
    cleanups.push(() => o.stop());
    const offline = await NeuroplexClient.connect({ url: 'ws://127.0.0.1:9/v1/sync', keyspace: 'docs', WebSocket: WS, networkEvents: null });
    offline.goOffline();
    cleanups.push(() => offline.close());
    const online = await client(o.syncUrl);
    await offline.set('p2p', 'from the offline peer');
    const it = (await offline.createDeltaStream('online')).receive();
    const first = await it.next();
    await online.applyDelta(first.value as Uint8Array);
    // Applying it again brings nothing new: nothing more to send.
    await online.applyDelta(first.value as Uint8Array);
    expect(online.unacknowledged).toBe(1);
    await online.flushed();
    expect(o.node.stateMachine.crdtKeyspace('docs')!.replica.get('p2p')).toBe('from the offline peer');
    await it.return!();
  });
});
