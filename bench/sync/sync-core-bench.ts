// npx tsx bench/sync/sync-core-bench.ts [-- --json] [-- --runs N]
// The pure sync protocol in one process (no sockets, no disk, no Raft): the CPU cost and
// wire bytes of the issue-7 scenarios through the core sessions and an in-memory log.
// - catch-up: a client that made 10,000 changes offline reconnects until every change is
//   acknowledged committed and it is synced;
// - fan-out: one change delivered to 100 connected clients (p99 over repeated changes).
// The end-to-end figures (origin over WebSockets) belong to `npm run bench:sync` later.
import { ClientHost, Link, ServerHost, settle } from '../../test/support/sync-harness.ts';
import { flagValue, hasFlag, machineInfo, median, medianOf, writeResult } from '../support/report.ts';

const RUNS = Number(flagValue('--runs') ?? 3);
const CATCH_UP_OPS = 10_000;
const FANOUT_CLIENTS = 100;
const FANOUT_CHANGES = 200;

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

interface CatchUp {
  ms: number;
  wireBytes: number;
  deltaBytes: number;
  frames: number;
}

function catchUp(): CatchUp {
  const server = new ServerHost(1000);
  const client = new ClientHost(1);
  for (let i = 0; i < CATCH_UP_OPS; i++) client.replica.put(`doc:${i % 2000}:field${i % 7}`, i);
  const deltaBytes = client.state.pendingBytes;
  const link = new Link([server]);
  link.record = false;
  const t0 = cpuMs();
  client.open(link.clientMux);
  settle([link], [server], [client], 1_000_000);
  const ms = cpuMs() - t0;
  if (client.state.pending.length !== 0 || client.session!.status !== 'synced') throw new Error('catch-up did not finish');
  if (server.replica.size !== client.replica.size) throw new Error('catch-up did not converge');
  return { ms, wireBytes: link.upBytes + link.downBytes, deltaBytes, frames: 0 };
}

function fanout(): number[] {
  const server = new ServerHost(1000);
  const clients: ClientHost[] = [];
  const links: Link[] = [];
  for (let i = 0; i < FANOUT_CLIENTS; i++) {
    const c = new ClientHost(i + 1);
    const l = new Link([server]);
    l.record = false;
    c.open(l.clientMux);
    clients.push(c);
    links.push(l);
  }
  settle(links, [server], clients);
  const writer = clients[0]!;
  const times: number[] = [];
  for (let k = 0; k < FANOUT_CHANGES; k++) {
    const t0 = cpuMs();
    writer.replica.put('shared', k);
    settle(links, [server], clients);
    times.push(cpuMs() - t0);
    for (const c of clients) if (c.replica.get('shared') !== k) throw new Error('fan-out did not reach every client');
  }
  return times;
}

function p99(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(s.length * 0.99) - 1)]!;
}

const catchUps: CatchUp[] = [];
for (let i = 0; i < RUNS; i++) catchUps.push(catchUp());
const fanoutP99 = medianOf(RUNS, () => p99(fanout()));
const c = catchUps[0]!;
const result = {
  catchUpOps: CATCH_UP_OPS,
  catchUpMs: Math.round(median(catchUps.map((x) => x.ms))),
  wireBytesPerOp: Number((c.wireBytes / CATCH_UP_OPS).toFixed(1)),
  deltaBytesPerOp: Number((c.deltaBytes / CATCH_UP_OPS).toFixed(1)),
  fanoutClients: FANOUT_CLIENTS,
  fanoutP99Ms: Number(fanoutP99.toFixed(2)),
};
const targets = {
  catchUpMs: result.catchUpMs < 1000,
  wireBytesPerOp: result.wireBytesPerOp <= 2 * result.deltaBytesPerOp,
  fanoutP99Ms: result.fanoutP99Ms < 50,
};
writeResult('sync-core.json', { ...result, targetsMet: targets, runs: RUNS, scope: 'core sessions in one process, CPU time', machine: machineInfo() });

if (hasFlag('--json')) {
  console.log(JSON.stringify(result));
} else {
  console.log(`sync core bench — medians of ${RUNS} runs, process CPU time (bench/results/sync-core.json)`);
  const rows: [string, string, string][] = [
    [`catch-up of ${CATCH_UP_OPS} offline changes`, `${result.catchUpMs} ms`, `< 1000  ${targets.catchUpMs ? 'met' : 'MISSED'}`],
    ['wire bytes per op (both directions)', `${result.wireBytesPerOp} B`, `≤ 2 × ${result.deltaBytesPerOp} B  ${targets.wireBytesPerOp ? 'met' : 'MISSED'}`],
    [`fan-out of one change to ${FANOUT_CLIENTS} clients, p99`, `${result.fanoutP99Ms} ms`, `< 50  ${targets.fanoutP99Ms ? 'met' : 'MISSED'}`],
  ];
  for (const [a, b, t] of rows) console.log(`${a.padEnd(46)} ${b.padStart(12)}   ${t}`);
}
