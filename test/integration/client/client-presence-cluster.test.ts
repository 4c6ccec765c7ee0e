// Presence across a real 3-node origin cluster of `neuroplex start` processes (loopback):
// two NeuroplexClients connected to different nodes see each other's state, its updates
// and a clean leave at once (relayed between nodes as ephemeral peer frames, not through
// Raft); a client that goes silent without closing its socket (a crash, a lost network)
// vanishes from the other node's view after the presence timeout, and so does the client
// of a node that was killed.
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { NeuroplexClient } from '../../../browser/src/client.ts';
import type { WebSocketConstructor } from '../../../browser/src/transport.ts';
import type { ReplicaId } from '../../../core/src/clock/replica-id.ts';
import { Replica } from '../../../core/src/doc/replica.ts';
import { ClientSyncSession } from '../../../core/src/sync/client-session.ts';
import { ClientSyncState } from '../../../core/src/sync/client-state.ts';
import { Multiplexer } from '../../../core/src/sync/multiplexer.ts';
import { encodePresenceState } from '../../../core/src/sync/presence.ts';
import { agreedLeader, createProcCluster, destroyProcCluster, type ProcCluster, type ProcNode, stopNode, until } from '../../support/process-cluster.ts';
import { waitFor } from '../../support/sync-origin.ts';

const WS = WebSocket as unknown as WebSocketConstructor;
const TIMEOUT_MS = 3000;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

const syncUrl = (n: ProcNode): string => `ws://127.0.0.1:${n.port}/v1/sync`;

async function client(n: ProcNode): Promise<NeuroplexClient> {
  const c = await NeuroplexClient.connect({
    url: syncUrl(n),
    keyspace: 'room',
    WebSocket: WS,
    backoff: { initialMs: 20, maxMs: 300 },
    networkEvents: null,
    presence: { heartbeatMs: 500, timeoutMs: TIMEOUT_MS },
  });
  cleanups.push(() => c.close());
  return c;
}

/** A client that announces itself once and then goes silent, its socket left open. */
async function silentClient(n: ProcNode, id: number, state: unknown): Promise<void> {
  const ws = new WebSocket(syncUrl(n));
  ws.binaryType = 'arraybuffer';
  cleanups.push(async () => ws.terminate());
  const mux = new Multiplexer();
  const session = new ClientSyncSession({
    channel: mux.allocateChannel(),
    keyspace: 'room',
    replica: new Replica({ replicaId: id as ReplicaId, keyspace: 'room' }),
    state: new ClientSyncState(),
    localStoreLoaded: true,
  });
  mux.add(session);
  const flush = (): void => {
    for (const f of mux.takeFrames()) ws.send(f);
  };
  ws.on('message', (data: ArrayBuffer) => {
    mux.receive(new Uint8Array(data));
    session.takeEffects();
    flush();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  session.start();
  flush();
  await waitFor(() => session.presenceEnabled, 'silent client welcomed');
  session.sendPresence(id as ReplicaId, encodePresenceState(state as never));
  flush();
}

describe('presence across a 3-node origin cluster', () => {
  it('clients on different nodes see each other, updates, leaves; a silent one times out', { timeout: 60_000 }, async () => {
    const cluster: ProcCluster = await createProcCluster(3, ['--presence-timeout-ms', String(TIMEOUT_MS)]);
    cleanups.push(() => destroyProcCluster(cluster));
    await until(() => agreedLeader(cluster), 'a leader');
    const [n1, n2, n3] = cluster.nodes as [ProcNode, ProcNode, ProcNode];
    const a = await client(n1);
    const b = await client(n2);
    const idA = a.presence.peerId;
    const idB = b.presence.peerId;
    a.presence.set({ name: 'ada', cursor: 1 });
    b.presence.set({ name: 'bob', cursor: 2 });
    await waitFor(() => b.presence.peers().has(idA) && a.presence.peers().has(idB), 'a and b see each other across nodes', 15_000);
    expect(b.presence.peers().get(idA)!.state).toEqual({ name: 'ada', cursor: 1 });
    expect(a.presence.peers().get(idB)!.state).toEqual({ name: 'bob', cursor: 2 });
    a.presence.set({ name: 'ada', cursor: 7 });
    await waitFor(() => (b.presence.peers().get(idA)?.state as { cursor?: number } | undefined)?.cursor === 7, 'update across nodes');

    // A silent client on the third node: seen, then gone once the timeout passes.
    await silentClient(n3, 424242, { name: 'ghost' });
    await waitFor(() => b.presence.peers().has('424242'), 'b sees the silent client', 10_000);
    const silentSince = Date.now();
    await waitFor(() => !b.presence.peers().has('424242') && !a.presence.peers().has('424242'), 'the silent client times out', 20_000);
    expect(Date.now() - silentSince).toBeGreaterThanOrEqual(TIMEOUT_MS - 1000);
    // The live ones kept each other through their heartbeats.
    expect(b.presence.peers().has(idA)).toBe(true);

    // A node killed: its client is offline (sees nobody), and the other nodes drop it
    // after the timeout.
    const c3 = await client(n3);
    c3.presence.set({ name: 'cy' });
    await waitFor(() => b.presence.peers().has(c3.presence.peerId) && c3.presence.peers().has(idB), 'c3 on n3 seen', 10_000);
    await stopNode(cluster, n3, 'SIGKILL');
    const killedAt = Date.now();
    await waitFor(() => c3.presence.peers().size === 0, 'c3 offline sees nobody', 10_000);
    await waitFor(() => !b.presence.peers().has(c3.presence.peerId), 'c3 dropped after its node died', 20_000);
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(TIMEOUT_MS - 1000);

    // A clean close: gone from the other node well before any timeout.
    const closedAt = Date.now();
    await a.close();
    await waitFor(() => !b.presence.peers().has(idA), 'leave across nodes on close', 10_000);
    expect(Date.now() - closedAt).toBeLessThan(TIMEOUT_MS);
  });
});
