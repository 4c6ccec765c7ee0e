// The edge replica relays a client's change to the other clients before writing it, and
// acknowledges it only after (replica-object.ts, "Relay first"). In real workerd:
// - an acknowledged change survives SIGKILL of workerd the moment its ack arrives;
// - a change lost between its relay and its write (the EDGE_DEBUG crash hook: the
//   instance's memory goes, the row was never written) costs nothing: its author resends
//   it, and a receiver that got it, whose cursor is therefore ahead of the durable log,
//   misses no later change (positions are never given out twice; sql-keyspace-log.ts).
import { describe, expect, it } from 'vitest';
import { EdgeClient, useWranglerDev, waitFor } from '../../support/edge-harness.ts';
import { stateOf } from '../../support/sync-harness.ts';

describe('edge replica: relay before the write, ack after it (wrangler dev)', () => {
  const edge = useWranglerDev({ vars: { EDGE_DEBUG: '1' } });
  const syncUrl = (ks: string): string => edge.syncUrl(`ks=${ks}&region=r1`);
  const client = async (id: number, ks: string): Promise<EdgeClient> => {
    const c = new EdgeClient(id, ks);
    edge.clients.push(c);
    await c.connect(syncUrl(ks));
    await waitFor(() => c.synced, 10_000, `client ${id} synced`);
    return c;
  };

  it('acknowledged changes survive SIGKILL of workerd at the moment the last ack arrives', async () => {
    const a = await client(601, 'kill');
    const b = await client(602, 'kill');
    for (let i = 1; i <= 5; i++) {
      a.host.replica.put(`warm-${i}`, i);
      a.pump();
      await waitFor(() => a.quiet && b.host.replica.get(`warm-${i}`) === i, 5_000, `warm-up change ${i}`);
    }
    // The fast path is in use: changes went out to b before their write.
    expect((await edge.debug('kill')).relayedFirst).toBeGreaterThan(0);
    const lsnBefore = a.host.committedLsn;
    let killedAtLsn = 0;
    a.ws!.on('message', () => {
      // Runs after the client's own handler: the ack was just processed. Kill at once.
      if (killedAtLsn === 0 && a.host.committedLsn >= lsnBefore + 10) {
        killedAtLsn = a.host.committedLsn;
        process.kill(-edge.dev.pid, 'SIGKILL');
      }
    });
    for (let i = 1; i <= 10; i++) a.host.replica.put(`k-${i}`, i);
    a.pump();
    await waitFor(() => killedAtLsn > 0, 10_000, 'the acks of all ten changes');
    await edge.dev.kill();
    await edge.restart();
    const d = await client(603, 'kill');
    for (let i = 1; i <= 10; i++) expect(d.host.replica.get(`k-${i}`), `acked change k-${i}`).toBe(i);
    for (let i = 1; i <= 5; i++) expect(d.host.replica.get(`warm-${i}`)).toBe(i);
  }, 90_000);

  it('a change lost between its relay and its write: the receiver ahead of the log misses nothing after', async () => {
    const a = await client(701, 'lost');
    const b = await client(702, 'lost');
    const c = await client(703, 'lost');
    for (let i = 1; i <= 3; i++) {
      c.host.replica.put(`base-${i}`, i);
      c.pump();
      await waitFor(() => c.quiet && a.host.replica.get(`base-${i}`) === i && b.host.replica.get(`base-${i}`) === i, 5_000, `base change ${i}`);
    }
    const before = await edge.debug('lost');
    expect(before.relayedFirst).toBeGreaterThan(0);
    const armed = await fetch(`${edge.dev.url}/v1/debug/replica/crash-before-write?ks=lost&region=r1`, { method: 'POST' });
    expect(armed.status).toBe(200);

    // a's change reaches b and c, then the object "crashes" before writing it.
    a.host.replica.put('lost', 'relayed');
    a.pump();
    await waitFor(() => b.host.replica.get('lost') === 'relayed' && c.host.replica.get('lost') === 'relayed', 5_000, 'the relay');
    await waitFor(() => [a, b, c].every((x) => x.closeCode === 1012), 5_000, 'every socket closed by the crash');
    expect(a.host.disk.pending.length, 'never acknowledged: still pending at its author').toBeGreaterThan(0);

    // c writes first: its change must not take the position b already holds.
    await c.connect(syncUrl('lost'));
    await waitFor(() => c.synced, 10_000, 'c back');
    c.host.replica.put('after', 'crash');
    c.pump();
    await waitFor(() => c.quiet, 5_000, "c's change stored");
    // b resumes from its cursor, past the durable head.
    await b.connect(syncUrl('lost'));
    await waitFor(() => b.synced && b.host.replica.get('after') === 'crash', 10_000, "b gets c's change made after the crash");
    // a resends what was never acknowledged; everyone converges.
    await a.connect(syncUrl('lost'));
    await waitFor(() => [a, b, c].every((x) => x.quiet && x.host.replica.get('lost') === 'relayed' && x.host.replica.get('after') === 'crash'), 10_000, 'convergence');
    expect(stateOf(b.host.replica)).toEqual(stateOf(a.host.replica));
    expect(stateOf(c.host.replica)).toEqual(stateOf(a.host.replica));
    const fresh = await client(704, 'lost');
    expect(stateOf(fresh.host.replica)).toEqual(stateOf(a.host.replica));
  }, 60_000);
});
