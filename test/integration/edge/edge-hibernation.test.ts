// WebSocket hibernation of the keyspace replica in real workerd: three clients connected,
// the room idles until workerd evicts the Durable Object (miniflare evicts after 10 s
// without events), then a client's change wakes it. The object reports a random instance
// id on the debug route (EDGE_DEBUG=1, tests only), so the test sees that it really was
// rebuilt; every hibernated socket must still work from its attachment: changes from each
// reach the others, stored and committed acks come back, the resumed sessions' sequence
// numbers match the clients' (no protocol error, no close), and nothing stored is lost.
import { describe, expect, it } from 'vitest';
import type { ReplicaDebugInfo } from '../../../edge/src/replica-object.ts';
import { EdgeClient, sleep, useWranglerDev, waitFor } from '../../support/edge-harness.ts';
import { stateOf } from '../../support/sync-harness.ts';

/** Idle time before the wake: miniflare evicts an object 10 s after its last event. */
const IDLE_MS = 12_500;

describe('edge replica hibernation in workerd (wrangler dev)', () => {
  const edge = useWranglerDev({ vars: { EDGE_DEBUG: '1', EDGE_TOKEN: 'sesame' } });
  const clients = edge.clients;
  const syncUrl = (): string => edge.syncUrl('ks=hib&region=r1');
  const debug = (): Promise<ReplicaDebugInfo> => edge.debug('hib');
  /** The debug info once every socket's sessions are quiescent again (bounded wait). */
  const resumableDebug = async (sockets: number): Promise<ReplicaDebugInfo> => {
    const deadline = Date.now() + 5_000;
    let info = await debug();
    while (info.resumable < sockets && Date.now() < deadline) {
      await sleep(100);
      info = await debug();
    }
    return info;
  };

  it('sockets outlive an eviction: the rebuilt object serves them from their attachments', async () => {
    const [a, b, c] = [new EdgeClient(501, 'hib'), new EdgeClient(502, 'hib'), new EdgeClient(503, 'hib')];
    clients.push(a, b, c);
    for (const x of clients) await x.connect(syncUrl(), 'sesame');
    await waitFor(() => clients.every((x) => x.synced), 10_000, 'all synced');
    a.host.replica.put('title', 'before');
    a.pump();
    b.host.replica.counter('n').increment(2);
    b.pump();
    await waitFor(() => clients.every((x) => x.host.replica.get('title') === 'before' && x.host.replica.get('n') === 2 && x.quiet), 5_000, 'converged before idling');
    // Every session quiescent (all it sent acknowledged): each attachment can resume.
    const before = await resumableDebug(3);
    expect(before).toMatchObject({ sockets: 3, connections: 3, resumable: 3, resumed: 0, head: 2 });
    const committedBefore = clients.map((x) => x.host.committedLsn);

    // Idle: no frame and no request reaches the object; workerd evicts it.
    await sleep(IDLE_MS);
    c.host.replica.put('woke', 'by-c');
    c.pump();
    await waitFor(() => a.host.replica.get('woke') === 'by-c' && b.host.replica.get('woke') === 'by-c', 10_000, 'the waking change fanned out');
    const after = await debug();
    expect(after.instance, 'the object was not evicted while idle').not.toBe(before.instance);
    expect(after).toMatchObject({ sockets: 3, connections: 3, resumed: 3 });
    // A reopened log numbers its next entry after the last run's position reservation
    // (sql-keyspace-log.ts), so the head moved on by more than the one change.
    expect(after.head).toBeGreaterThan(before.head);

    // The change that woke the object was stored and committed (no origin: the edge log is the commit point).
    await waitFor(() => c.host.committedLsn > committedBefore[2]! && c.quiet, 5_000, "c's committed ack");
    // Every resumed socket still sends and receives.
    a.host.replica.put('from-a', 1);
    a.pump();
    b.host.replica.counter('n').increment(3);
    b.pump();
    await waitFor(() => clients.every((x) => x.host.replica.get('from-a') === 1 && x.host.replica.get('n') === 5 && x.quiet), 10_000, 'changes from a and b after the wake');
    expect(a.host.committedLsn).toBeGreaterThan(committedBefore[0]!);
    expect(b.host.committedLsn).toBeGreaterThan(committedBefore[1]!);
    for (const x of clients) {
      expect(x.closeCode).toBeUndefined();
      expect(x.host.errors).toEqual([]);
      expect(stateOf(x.host.replica)).toEqual(stateOf(a.host.replica));
    }
    // The resumed sessions acknowledged in step: they are quiescent again.
    const settled = await resumableDebug(3);
    expect(settled).toMatchObject({ instance: after.instance, sockets: 3, connections: 3, resumable: 3, head: after.head + 2 });

    // Nothing stored was lost: a new client gets the whole state from the object's log.
    const d = new EdgeClient(504, 'hib');
    clients.push(d);
    await d.connect(syncUrl(), 'sesame');
    await waitFor(() => d.synced, 10_000, 'new client synced');
    expect(stateOf(d.host.replica)).toEqual(stateOf(a.host.replica));
    expect(d.host.replica.get('title')).toBe('before');
  }, 60_000);

  it('the debug route answers GET only, and a client cannot reach it through /v1/sync', async () => {
    const resp = await fetch(`${edge.dev.url}/v1/debug/replica?ks=hib&region=r1`, { method: 'POST' });
    expect(resp.status).toBe(404);
    const sync = await fetch(`${edge.dev.url}/v1/sync?ks=hib&region=r1`, { headers: { 'x-neuroplex-debug': '1' } });
    expect(sync.status).toBe(426);
  });
});
