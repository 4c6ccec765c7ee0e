// npx tsx bench/sync/sync-bench.ts [-- --json]
// End to end: NeuroplexClients over real WebSockets against an in-process 3-node Raft
// cluster on 127.0.0.1 (WAL with fsync, LMDB), the issue-7 scenarios:
// - catch-up: a client that made 10,000 changes offline goes online until every change is
//   committed through Raft and acknowledged (wire bytes per op counted on the client's socket);
// - fan-out: 100 clients spread over the 3 nodes; one change, time until all 100 saw it
//   (p99 over repeated changes).
// Intended as `npm run bench:sync` (no such script entry yet; package.json is the lead's).
import { WebSocket } from 'ws';
import { NeuroplexClient } from '../../browser/src/client.ts';
import type { WebSocketConstructor, WebSocketLike } from '../../browser/src/transport.ts';
import { eventually, leaderOf, startCluster, stopCluster } from '../../test/support/raft-cluster.ts';
import { hasFlag, machineInfo, writeResult } from '../support/report.ts';

const CATCH_UP_OPS = 10_000;
const FANOUT_CLIENTS = 100;
const FANOUT_CHANGES = 30;

/** Counts bytes the client sends and receives. */
const wire = { sent: 0, received: 0 };
class CountingWebSocket extends (WebSocket as unknown as new (url: string) => WebSocketLike & { on(ev: string, f: (d: ArrayBuffer | Buffer) => void): void }) {
  constructor(url: string) {
    super(url);
    this.on('message', (d) => (wire.received += d.byteLength));
  }
  override send(data: Uint8Array): void {
    wire.sent += data.length;
    super.send(data);
  }
}

async function until(check: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

const members = await startCluster(3, { tickMs: 50 });
await eventually(() => leaderOf(members), 'a leader');
const urls = members.map((m) => `${m.info.url.replace('http://', 'ws://')}/v1/sync`);
const clients: NeuroplexClient[] = [];
try {
  // ---- catch-up ----
  const writer = await NeuroplexClient.connect({ url: urls, keyspace: 'bench', WebSocket: CountingWebSocket as unknown as WebSocketConstructor });
  clients.push(writer);
  await until(() => writer.status === 'synced', 'writer synced');
  writer.goOffline();
  let deltaBytes = 0;
  const off = writer.replica.onLocalDelta((d) => (deltaBytes += writer.replica.encodeDelta(d).length));
  for (let i = 0; i < CATCH_UP_OPS; i++) await writer.set(`k${i % 1000}`, i);
  off();
  wire.sent = 0;
  wire.received = 0;
  const t0 = performance.now();
  writer.goOnline();
  await writer.flushed();
  await until(() => writer.status === 'synced', 'writer synced again');
  const catchUpMs = performance.now() - t0;
  const wireBytesPerOp = (wire.sent + wire.received) / CATCH_UP_OPS;
  const deltaBytesPerOp = deltaBytes / CATCH_UP_OPS;

  // ---- fan-out ----
  const readers: NeuroplexClient[] = [];
  for (let i = 0; i < FANOUT_CLIENTS; i++) {
    // One socket per reader, as 100 users would have.
    const c = await NeuroplexClient.connect({ url: [urls[i % 3]!], keyspace: 'fan', WebSocket: WebSocket as unknown as WebSocketConstructor, shareSocket: false });
    readers.push(c);
    clients.push(c);
  }
  const source = await NeuroplexClient.connect({ url: [urls[0]!], keyspace: 'fan', WebSocket: WebSocket as unknown as WebSocketConstructor, shareSocket: false });
  clients.push(source);
  await until(() => source.status === 'synced' && readers.every((r) => r.status === 'synced'), 'fan-out clients synced');
  const lastSeen: number[] = [];
  for (let change = 1; change <= FANOUT_CHANGES; change++) {
    const start = performance.now();
    await source.set('tick', change);
    await until(() => readers.every((r) => r.replica.get('tick') === change), `change ${change} everywhere`);
    lastSeen.push(performance.now() - start);
  }
  lastSeen.sort((a, b) => a - b);
  const fanoutP99Ms = lastSeen[Math.min(lastSeen.length - 1, Math.ceil(lastSeen.length * 0.99) - 1)]!;
  const fanoutP50Ms = lastSeen[lastSeen.length >> 1]!;

  const result = {
    catchUpOps: CATCH_UP_OPS,
    catchUpMs: Math.round(catchUpMs),
    wireBytesPerOp: Number(wireBytesPerOp.toFixed(1)),
    fanoutClients: FANOUT_CLIENTS,
    fanoutP99Ms: Number(fanoutP99Ms.toFixed(1)),
  };
  const targets = { catchUpUnder1s: catchUpMs < 1_000, wireWithin2xDelta: wireBytesPerOp <= 2 * deltaBytesPerOp, fanoutP99Under50ms: fanoutP99Ms < 50 };
  writeResult('sync.json', { ...result, deltaBytesPerOp: Number(deltaBytesPerOp.toFixed(1)), fanoutP50Ms: Number(fanoutP50Ms.toFixed(1)), fanoutChanges: FANOUT_CHANGES, targetsMet: targets, scope: '3-node in-process cluster, loopback WebSockets, WAL fsync', machine: machineInfo() });
  if (hasFlag('--json')) console.log(JSON.stringify(result));
  else {
    console.log('sync end-to-end bench (bench/results/sync.json)');
    console.log(`catch-up of ${CATCH_UP_OPS} offline changes      ${result.catchUpMs} ms            target < 1000 ms: ${targets.catchUpUnder1s}`);
    console.log(`wire bytes per op (delta ${deltaBytesPerOp.toFixed(1)} B)   ${result.wireBytesPerOp} B        target <= 2x delta: ${targets.wireWithin2xDelta}`);
    console.log(`fan-out to ${FANOUT_CLIENTS} clients, p50 / p99     ${fanoutP50Ms.toFixed(1)} / ${result.fanoutP99Ms} ms   target p99 < 50 ms: ${targets.fanoutP99Under50ms}`);
  }
} finally {
  for (const c of clients) await c.close();
  await stopCluster(members);
}
