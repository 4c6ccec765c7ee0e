// Edge replicas in real workerd syncing through a REAL origin: a 3-node Raft cluster of
// processes (`neuroplex cluster`), every change committed on a quorum: a change at one
// region reaches a client of another region with a committed ack; with the whole origin
// stopped, both regions keep accepting changes; after it restarts on its data
// directories, everything converges and nothing acknowledged is lost; a change the edge
// sent to the origin and then lost (the crash hook: before its write) comes back to the
// edge from the origin after its restart, although its author never returns.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplicaDebugInfo } from '../../../edge/src/replica-object.ts';
import { EdgeClient, startWranglerDev, waitFor, type WranglerDev } from '../../support/edge-harness.ts';
import { stateOf } from '../../support/sync-harness.ts';
import { freePort, freePortRun } from '../../support/free-port.ts';
import { type LocalCluster, pidOfNode, startLocalCluster } from '../../support/local-cluster.ts';

describe('edge replicas syncing through a real 3-node origin cluster', () => {
  const dir = mkdtempSync(join(tmpdir(), 'np-edge-real-'));
  let originPort = 0;
  let origin: LocalCluster | undefined;
  let dev: WranglerDev | undefined;
  const clients: EdgeClient[] = [];

  async function startOrigin(): Promise<void> {
    origin = await startLocalCluster({ basePort: originPort, dataDir: join(dir, 'origin') });
  }

  async function stopOrigin(): Promise<void> {
    const o = origin;
    origin = undefined;
    await o?.stop();
  }

  beforeAll(async () => {
    originPort = await freePortRun(3);
    await startOrigin();
    // Every node, comma-separated: the edge goes on through the others when one is down.
    dev = await startWranglerDev({ port: await freePort(), persistTo: join(dir, 'edge'), vars: { ORIGIN_URL: origin!.urls.join(','), EDGE_DEBUG: '1' } });
  }, 90_000);

  afterAll(async () => {
    for (const c of clients) await c.close();
    await dev?.stop();
    await stopOrigin();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  const url = (region: string): string => `ws://127.0.0.1:${dev!.port}/v1/sync?ks=doc&region=${region}`;

  it('a change at one region is committed by the origin and reaches the other region', async () => {
    const a = new EdgeClient(401, 'doc');
    const b = new EdgeClient(402, 'doc');
    clients.push(a, b);
    await a.connect(url('eu'));
    await b.connect(url('us'));
    await waitFor(() => a.synced && b.synced, 20_000, 'both synced');
    a.host.replica.put('from-eu', 1);
    a.pump();
    await waitFor(() => b.host.replica.get('from-eu') === 1, 20_000, 'eu -> origin -> us');
    await waitFor(() => a.host.committedLsn >= 1, 10_000, 'committed ack from the origin');
  }, 60_000);

  it('with the first listed origin node killed, changes still commit and strong operations still answer', async () => {
    const [a, b] = clients as [EdgeClient, EdgeClient];
    process.kill(pidOfNode(join(dir, 'origin'), 'n1'), 'SIGKILL');
    const before = a.host.committedLsn;
    a.host.replica.put('after-n1', 2);
    a.pump();
    await waitFor(() => b.host.replica.get('after-n1') === 2, 30_000, 'eu -> origin (n2 or n3) -> us');
    await waitFor(() => a.host.committedLsn > before, 30_000, 'committed ack without n1');
    const put = await fetch(`http://127.0.0.1:${dev!.port}/v1/kv/strong-key?ks=doc`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ value: 'v' }) });
    expect(put.status).toBe(200);
    const get = await fetch(`http://127.0.0.1:${dev!.port}/v1/kv/strong-key?ks=doc&consistency=strong`);
    expect(((await get.json()) as { value: unknown }).value).toBe('v');
  }, 90_000);

  it('keeps accepting at both regions while the origin is down, and converges after it restarts', async () => {
    const [a, b] = clients as [EdgeClient, EdgeClient];
    await stopOrigin();
    a.host.replica.put('offline-eu', 'x');
    a.pump();
    b.host.replica.counter('n').increment(5);
    b.pump();
    await waitFor(() => a.host.session!.inflightBytes === 0 && b.host.session!.inflightBytes === 0, 10_000, 'stored acks at the edges');
    expect(a.host.disk.pending.length).toBeGreaterThan(0);
    await startOrigin();
    await waitFor(() => a.host.replica.get('n') === 5 && b.host.replica.get('offline-eu') === 'x', 40_000, 'convergence after the outage');
    await waitFor(() => a.host.disk.pending.length === 0 && b.host.disk.pending.length === 0, 20_000, 'everything committed');
    expect(stateOf(a.host.replica)).toEqual(stateOf(b.host.replica));
    expect(a.host.replica.get('from-eu')).toBe(1);
  }, 90_000);

  it('a change relayed and forwarded, then lost at the edge before its write, comes back from the origin', async () => {
    const ghostUrl = (region: string): string => `ws://127.0.0.1:${dev!.port}/v1/sync?ks=ghost&region=${region}`;
    const [a, b, c] = [new EdgeClient(451, 'ghost'), new EdgeClient(452, 'ghost'), new EdgeClient(453, 'ghost')];
    clients.push(a, b, c);
    // The keyspace has a commit at the origin before eu links to it, so eu's link holds a
    // cursor on the origin's real log from its first session (a link that first synced the
    // empty log follows it there too, by the `log` message: edge-origin-log-id.test.ts).
    await c.connect(ghostUrl('us'));
    await waitFor(() => c.synced, 20_000, 'c synced');
    c.host.replica.put('pre', 0);
    c.pump();
    await waitFor(() => c.host.disk.pending.length === 0, 20_000, "c's first change committed");
    await a.connect(ghostUrl('eu'));
    await b.connect(ghostUrl('eu'));
    await waitFor(() => a.synced && b.synced && a.host.replica.get('pre') === 0, 20_000, 'eu synced');
    for (let i = 1; i <= 3; i++) {
      a.host.replica.put(`w${i}`, i);
      a.pump();
      await waitFor(() => a.host.disk.pending.length === 0 && b.host.replica.get(`w${i}`) === i && c.host.replica.get(`w${i}`) === i, 20_000, `warm-up change ${i}`);
    }
    // A change from the other region: eu stores its first delivery from the origin, so its
    // link's resume cursor names the origin's log (a cursor resume would now skip eu's own changes).
    c.host.replica.put('from-us', true);
    c.pump();
    await waitFor(() => a.host.replica.get('from-us') === true && b.host.replica.get('from-us') === true, 20_000, 'us -> origin -> eu');
    const info = (await (await fetch(`${dev!.url}/v1/debug/replica?ks=ghost&region=eu`)).json()) as ReplicaDebugInfo;
    expect(info.relayedFirst, 'changes went out before their write').toBeGreaterThan(0);
    const armed = await fetch(`${dev!.url}/v1/debug/replica/crash-before-write?ks=ghost&region=eu`, { method: 'POST' });
    expect(armed.status).toBe(200);

    a.host.replica.put('ghost', 'boo');
    a.pump();
    // Relayed to b, forwarded to the origin (so c in the other region gets it), never written at eu.
    await waitFor(() => b.host.replica.get('ghost') === 'boo' && c.host.replica.get('ghost') === 'boo', 20_000, 'relay and forward');
    await waitFor(() => a.closeCode === 1012 && b.closeCode === 1012, 5_000, 'the crash closed the sockets');
    expect(a.host.disk.pending.length, 'never acknowledged').toBeGreaterThan(0);

    // Its author never returns. A new client of eu gets it all the same: the restarted
    // object's link resumes by causal context and the origin sends what eu lacks.
    const d = new EdgeClient(454, 'ghost');
    clients.push(d);
    await d.connect(ghostUrl('eu'));
    await waitFor(() => d.synced && d.host.replica.get('ghost') === 'boo', 20_000, 'the lost change back at eu from the origin');
    expect(d.host.replica.get('w3')).toBe(3);
  }, 90_000);
});
