// The load generator of the cluster benchmark, run as its own process (so it does not share
// an event loop with any node): binary-protocol clients connected to the leader. Prints one
// JSON line with its measurements.
// Usage: cluster-driver.ts <url,url,url> [pid,pid,pid] [--paced-rate=N] [--no-reads]
// With the nodes' pids (Linux), it also reports the CPU the nodes and this driver spent per
// write in the pipelined phase: on a shared 2-core machine, that is what bounds throughput.
// --paced-rate fixes the open-loop rate (the floor run uses the cluster's half load, so
// the two p99s are taken at the same rate); otherwise it is half the pipelined peak.
// BENCH_PHASE_MARKS=1 prints each phase's CLOCK_MONOTONIC span (µs, the clock of V8's CPU
// profiles) to stderr, so a --cpu-prof of a node can be cut to one phase.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { BinaryClient } from '../../server/src/client/binary-client.ts';
import { phaseDelta, phaseQuantiles, type Scrape, scrape } from './node-metrics.ts';

const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const urls = (positional[0] ?? '').split(',').filter((u) => u !== '');
const nodePids = (positional[1] ?? '').split(',').filter((p) => p !== '').map(Number);
const pacedRateArg = process.argv.find((a) => a.startsWith('--paced-rate='));
const skipReads = process.argv.includes('--no-reads');
const phaseMarks = process.env.BENCH_PHASE_MARKS === '1';

/**
 * Where a phase's write latency went on the leader (p50/p99 ms, from its /metrics): waiting
 * for the Raft loop, proposal to answer, its fdatasyncs, and how late the event loops of
 * the leader and the slowest follower ran a 10 ms timer. And how well writes were batched:
 * the leader's Readys, fdatasyncs and peer frames sent per write, a follower's frames sent
 * per write (its acks). `run` returns how many writes the phase made. Empty against the
 * echo floor.
 */
async function leaderStages(leader: string, others: string[], run: () => Promise<number>): Promise<Record<string, number>> {
  const nodes = [leader, ...others];
  const before: Scrape[] = await Promise.all(nodes.map(scrape));
  const writes = await run();
  const after: Scrape[] = await Promise.all(nodes.map(scrape));
  const perWrite = (i: number, name: string) => (i < nodes.length ? +(phaseDelta(before[i]!, after[i]!, name) / writes).toFixed(3) : Number.NaN);
  const q = (i: number, name: string) => phaseQuantiles(before[i]!, after[i]!, name, [0.5, 0.99]);
  const [queuedP50, queuedP99] = q(0, 'neuroplex_write_queued_ms');
  const [commitP50, commitP99] = q(0, 'neuroplex_write_commit_ms');
  const [, fsyncP99] = q(0, 'neuroplex_wal_fsync_ms');
  const [, lagP99] = q(0, 'neuroplex_event_loop_lag_ms');
  const followerLags = others.map((_, k) => q(k + 1, 'neuroplex_event_loop_lag_ms')[1]!).filter((x) => !Number.isNaN(x));
  const followerLagP99 = followerLags.length === 0 ? Number.NaN : Math.max(...followerLags);
  const out: Record<string, number> = {
    queuedP50,
    queuedP99,
    commitP50,
    commitP99,
    leaderFsyncP99: fsyncP99,
    leaderLoopLagP99: lagP99,
    followerLoopLagP99: followerLagP99,
    leaderReadiesPerWrite: perWrite(0, 'neuroplex_raft_readies_total'),
    leaderFsyncsPerWrite: perWrite(0, 'neuroplex_wal_fsync_ms_count'),
    leaderFramesSentPerWrite: perWrite(0, 'neuroplex_peer_frames_sent_total'),
    followerFramesSentPerWrite: perWrite(1, 'neuroplex_peer_frames_sent_total'),
  };
  for (const k of Object.keys(out)) if (Number.isNaN(out[k])) delete out[k];
  return out;
}

/** Runs one phase; with BENCH_PHASE_MARKS, reports its span on the monotonic clock. */
async function phase<T>(name: string, run: () => Promise<T>): Promise<T> {
  const t0 = process.hrtime.bigint() / 1000n;
  const out = await run();
  if (phaseMarks) process.stderr.write(`phase ${name} ${t0} ${process.hrtime.bigint() / 1000n}\n`);
  return out;
}

/** CPU ms (user + system) the processes used so far, from /proc; NaN where unavailable. */
function cpuMsOf(pids: readonly number[]): number {
  try {
    let ticks = 0;
    for (const pid of pids) {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14, 15)
    }
    return ticks * 10; // USER_HZ is 100 on Linux
  } catch {
    return NaN;
  }
}
const SEQ_CLIENTS = 64;
const PIPE_CONNECTIONS = 8;
const MAX_IN_FLIGHT = 1_000;
const PHASE_MS = Number(process.env.BENCH_PHASE_MS ?? 4_000);
const WARM_UP_MS = Number(process.env.BENCH_WARM_UP_MS ?? 2_000);
const VALUE = { n: 1, s: 'some payload' };

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return +sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!.toFixed(2);
}

async function sequential(clients: BinaryClient[], ms = PHASE_MS): Promise<{ perSec: number; p50: number; p99: number; count: number }> {
  const lat: number[] = [];
  const end = performance.now() + ms;
  await Promise.all(
    clients.map(async (c, i) => {
      for (let n = 0; performance.now() < end; n++) {
        const t0 = performance.now();
        await c.put('bench', `s${i}:${n % 1000}`, VALUE);
        lat.push(performance.now() - t0);
      }
    }),
  );
  lat.sort((a, b) => a - b);
  return { perSec: Math.round(lat.length / (ms / 1000)), p50: pct(lat, 50), p99: pct(lat, 99), count: lat.length };
}

/** Keeps MAX_IN_FLIGHT requests in flight (split over the connections) for `ms`. */
async function pipelined(clients: BinaryClient[], op: (c: BinaryClient, n: number) => Promise<unknown>, ms = PHASE_MS): Promise<number> {
  let done = 0;
  const end = performance.now() + ms;
  const perConn = Math.floor(MAX_IN_FLIGHT / clients.length);
  await Promise.all(
    clients.flatMap((c, i) =>
      Array.from({ length: perConn }, async (_, k) => {
        for (let n = 0; performance.now() < end; n++) {
          await op(c, i * 1_000_000 + k * 10_000 + n);
          done++;
        }
      }),
    ),
  );
  return Math.round(done / (ms / 1000));
}

/** Open loop at `rate` writes/s (paced every 5 ms); the p99 latency and the writes made. */
async function paced(clients: BinaryClient[], rate: number): Promise<{ p99: number; count: number }> {
  const lat: number[] = [];
  const pending: Promise<void>[] = [];
  const start = performance.now();
  let issued = 0;
  let inFlight = 0;
  let dropped = 0;
  while (performance.now() - start < PHASE_MS) {
    const due = Math.floor(((performance.now() - start) / 1000) * rate);
    for (; issued < due; issued++) {
      if (inFlight >= 10 * MAX_IN_FLIGHT) {
        dropped++; // the cluster cannot keep up with this rate; counted, not queued forever
        continue;
      }
      const c = clients[issued % clients.length]!;
      const t0 = performance.now();
      inFlight++;
      pending.push(
        c.put('bench', `h${issued % 5000}`, VALUE).then(() => {
          inFlight--;
          lat.push(performance.now() - t0);
        }),
      );
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  await Promise.all(pending);
  if (dropped > 0) process.stderr.write(`paced: ${dropped} writes not issued (over 10,000 in flight)\n`);
  lat.sort((a, b) => a - b);
  return { p99: pct(lat, 99), count: lat.length };
}

const seqClients = Array.from({ length: SEQ_CLIENTS }, () => new BinaryClient({ urls, timeoutMs: 10_000 }));
const pipeClients = Array.from({ length: PIPE_CONNECTIONS }, () => new BinaryClient({ urls, timeoutMs: 10_000 }));
try {
  await Promise.all([...seqClients, ...pipeClients].map((c) => c.connectedUrl()));
  const leader = await seqClients[0]!.connectedUrl();
  const others = urls.filter((u) => u !== leader);
  // Warm-up, not measured: a node that has just started runs unoptimized code and compiles
  // it (on the same 2 cores) for its first seconds; the phases measure the steady state.
  await phase('warm-up', async () => {
    await sequential(seqClients, WARM_UP_MS);
    await pipelined(pipeClients, (c, n) => c.put('bench', `p${n % 100_000}`, VALUE), WARM_UP_MS);
  });
  let seq!: Awaited<ReturnType<typeof sequential>>;
  const seqCpu0 = cpuMsOf(nodePids);
  const seqStages = await leaderStages(leader, others, async () => {
    seq = await phase('sequential', () => sequential(seqClients));
    return seq.count;
  });
  const seqNodeCpuUsPerWrite = +(((cpuMsOf(nodePids) - seqCpu0) * 1000) / ((seq.perSec * PHASE_MS) / 1000)).toFixed(1);
  const cpu0 = cpuMsOf(nodePids);
  const self0 = process.cpuUsage();
  let pipelinedWritesPerSec = 0;
  let writes = 0;
  const pipeStages = await leaderStages(leader, others, async () => {
    pipelinedWritesPerSec = await phase('pipelined', () => pipelined(pipeClients, (c, n) => c.put('bench', `p${n % 100_000}`, VALUE)));
    writes = (pipelinedWritesPerSec * PHASE_MS) / 1000;
    return writes;
  });
  const nodeCpuUsPerWrite = +(((cpuMsOf(nodePids) - cpu0) * 1000) / writes).toFixed(1);
  const selfUsed = process.cpuUsage(self0);
  const driverCpuUsPerWrite = +((selfUsed.user + selfUsed.system) / writes).toFixed(1);
  const strongReadsPerSec = skipReads ? null : await phase('reads', () => pipelined(pipeClients, (c, n) => c.read('bench', `p${n % 100_000}`, 'strong')));
  const pacedRate = pacedRateArg === undefined ? pipelinedWritesPerSec / 2 : Number(pacedRateArg.slice('--paced-rate='.length));
  let p99AtHalfLoadMs = 0;
  const pacedStages = await leaderStages(leader, others, async () => {
    const r = await phase('paced', () => paced(pipeClients, pacedRate));
    p99AtHalfLoadMs = r.p99;
    return r.count;
  });
  console.log(
    JSON.stringify({ seqWritesPerSec: seq.perSec, seqP50Ms: seq.p50, seqP99Ms: seq.p99, seqNodeCpuUsPerWrite, pipelinedWritesPerSec, strongReadsPerSec, pacedRate: Math.round(pacedRate), p99AtHalfLoadMs, nodeCpuUsPerWrite, driverCpuUsPerWrite, seqStages, pipeStages, pacedStages }),
  );
} finally {
  for (const c of [...seqClients, ...pipeClients]) c.close();
}
