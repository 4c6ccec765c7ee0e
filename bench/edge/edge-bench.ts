// `npm run bench:edge [-- --json] [-- --runs N] [-- --clients N] [-- --rounds N] [-- --gap-ms N] [-- --acks after|during]`: fan-out latency of the
// edge through real workerd (wrangler dev on loopback). One sender and N receivers of one
// keyspace replica; per round the sender makes one change and every receiver's arrival time
// of the delta frame is recorded (at the socket's message event). The floors are measured in
// the same wrangler process (bench-worker.ts): a bare Durable Object that rebroadcasts a
// same-size frame to the same number of sockets, and the same with a SQLite write before
// the send, after it in the same turn, and in the next turn.
// The edge is linked to a real 3-node origin cluster (`neuroplex cluster`, its own process
// group) through origin-observer.ts (its own process): the change-to-commit lag is from the
// sender's send to the Raft leader's state machine streaming the change to a subscriber
// there, split in two: the edge's share (to the delta frame passing the observer's relay
// toward the origin) and the origin's (relay to the leader's subscriber); and the whole
// round trip to the committed ack back at the sender. Receivers stamp a frame when it
// arrives and run their protocol work (decode, ack) after every socket's pending input was
// stamped, so one Node process hosting 100 clients does not inflate the figures. Rounds of
// the kinds alternate in blocks after a warm-up. Writes bench/results/edge.json.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import type { ReplicaId } from '../../core/src/clock/replica-id.ts';
import { Replica } from '../../core/src/doc/replica.ts';
import { ClientSyncSession } from '../../core/src/sync/client-session.ts';
import { ClientSyncState } from '../../core/src/sync/client-state.ts';
import { peekFrameHeader } from '../../core/src/sync/codec.ts';
import { Multiplexer } from '../../core/src/sync/multiplexer.ts';
import { EdgeClient, sleep, startWranglerDev, waitFor } from '../../test/support/edge-harness.ts';
import { flagValue, hasFlag, machineInfo, median, writeResult } from '../support/report.ts';
import { freePort } from '../../test/support/free-port.ts';
import { firstAfter, startCluster, startObserver } from './bench-origin.ts';

const CLIENTS = Number(flagValue('--clients') ?? 100);
const ROUNDS = Number(flagValue('--rounds') ?? 100);
const WARMUP = 30;
/** Rounds measuring the lag to the origin's commit (after the fan-out rounds). */
const LAG_ROUNDS = Number(flagValue('--lag-rounds') ?? 100);
/**
 * Pause before every round of every kind: the previous change's 100 acks (100 events the
 * edge object handles one by one) are done before the next change, so a round measures one
 * change's fan-out. `--gap-ms 0`: back to back, the acks of one change queued in front of the next.
 */
const GAP_MS = Number(flagValue('--gap-ms') ?? 50);
const BLOCK = 10;
const KS = 'bench';
const ROOT = join(import.meta.dirname, '..', '..');

/** Wall-clock ms, comparable with the origin process's stamps. */
const now = (): number => performance.timeOrigin + performance.now();


function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/**
 * With `--acks after` (the default) the receivers' protocol work of a round runs once every
 * receiver has the round's frame: 100 clients share this one Node process, and their 100
 * decodes and ack sends would otherwise delay the later receivers' arrival events (on
 * separate machines they would not). `--acks during`: at once (setImmediate), for comparison.
 */
const ACKS_AFTER = (flagValue('--acks') ?? 'after') === 'after';
const ackHold = { held: false, queue: [] as (() => void)[] };
function releaseAcks(): void {
  ackHold.held = false;
  const q = ackHold.queue.splice(0);
  for (const work of q) work();
}

/** A receiver of the edge: a sync session that acknowledges what it gets, timing delta frames. */
class Receiver {
  readonly ws: WebSocket;
  readonly mux = new Multiplexer();
  readonly session: ClientSyncSession;
  lastArrival = 0;
  arrivals = 0;

  constructor(url: string, id: number) {
    this.ws = new WebSocket(url);
    this.session = new ClientSyncSession({ channel: this.mux.allocateChannel(), keyspace: KS, replica: new Replica({ replicaId: id as ReplicaId, keyspace: KS }), state: new ClientSyncState(), localStoreLoaded: true });
    this.mux.add(this.session);
    this.ws.on('message', (data: Buffer) => {
      const frame = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      if (peekFrameHeader(frame)?.type === 'delta') {
        this.lastArrival = now();
        this.arrivals++;
      }
      const work = (): void => {
        this.mux.receive(frame);
        for (const e of this.session.takeEffects()) if (e.kind === 'deliver') this.session.storedUpTo(e.seq);
        this.flush();
      };
      // The protocol work (decode, ack: a send per receiver) waits until every receiver has
      // this round's frame (ackHold), or at least until the sockets' pending input is stamped.
      if (ackHold.held) ackHold.queue.push(work);
      else setImmediate(work);
    });
  }

  async open(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.session.start();
    this.flush();
  }

  flush(): void {
    for (const f of this.mux.takeFrames()) this.ws.send(f);
  }
}

/** A receiver of the bare object. */
class BareReceiver {
  readonly ws: WebSocket;
  lastArrival = 0;
  arrivals = 0;
  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.on('message', () => {
      this.lastArrival = now();
      this.arrivals++;
    });
  }
  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
  }
}

/** A bare room: one sender and N receivers of a BareBroadcastObject; per round, every receiver's delay. */
class Floor {
  readonly samples: number[] = [];
  private constructor(
    private readonly sender: BareReceiver,
    private readonly receivers: readonly BareReceiver[],
  ) {}

  static async open(url: string, n: number): Promise<Floor> {
    const sender = new BareReceiver(url);
    const receivers: BareReceiver[] = [];
    for (let i = 0; i < n; i++) receivers.push(new BareReceiver(url));
    await Promise.all([sender.open(), ...receivers.map((r) => r.open())]);
    return new Floor(sender, receivers);
  }

  /** Sends a frame of our delta's size and waits until every receiver has it. */
  async round(frameBytes: number, record: boolean): Promise<void> {
    if (GAP_MS > 0) await sleep(GAP_MS);
    const before = this.receivers.map((r) => r.arrivals);
    const payload = new Uint8Array(Math.max(frameBytes, 16));
    const t0 = now();
    this.sender.ws.send(payload);
    await waitFor(() => this.receivers.every((r, i) => r.arrivals > before[i]!), 5_000, 'bare fan-out round');
    if (record) for (const r of this.receivers) this.samples.push(r.lastArrival - t0);
  }

  close(): void {
    for (const r of [this.sender, ...this.receivers]) r.ws.terminate();
  }
}

type Run = Record<string, number>;

/** One measurement: a fresh origin cluster, wrangler dev, clients; everything stopped after. */
async function measure(log: (s: string) => void): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'np-edge-bench-'));
  log('starting a 3-node origin cluster ...');
  const origin = await startCluster(join(dir, 'origin'));
  const observer = await startObserver(origin, KS).catch(async (e: unknown) => {
    await origin.stop();
    throw e;
  });
  const commits = observer.commits;
  const port = await freePort();
  log(`origin nodes on ${origin.ports.join(', ')} (leader ${origin.leaderPort}); starting wrangler dev on ${port} ...`);
  // Every node, through the observer's relays: the edge's link goes on through the others if one fails.
  const originUrl = observer.relays.map((p) => `http://127.0.0.1:${p}`).join(',');
  const dev = await startWranglerDev({ port, persistTo: join(dir, 'edge'), config: 'bench/edge/wrangler.bench.toml', vars: { ORIGIN_URL: originUrl } }).catch(async (e: unknown) => {
    await observer.stop();
    await origin.stop();
    throw e;
  });
  // Ctrl-C: stop wrangler's and the cluster's process groups (they run detached) before leaving.
  const interrupted = (): void => {
    void Promise.all([dev.stop(), observer.stop(), origin.stop()]).finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  const edgeUrl = `ws://127.0.0.1:${port}/v1/sync?ks=${KS}&region=bench`;
  const bareUrl = `ws://127.0.0.1:${port}/bare?room=bench`;
  try {
    const sender = new EdgeClient(1, KS);
    await sender.connect(edgeUrl);
    // The committed ack's arrival at the sender (this listener runs after the client's own).
    let senderCommitted = 0;
    let senderCommittedAt = 0;
    sender.ws!.on('message', () => {
      if (sender.host.committedLsn > senderCommitted) {
        senderCommitted = sender.host.committedLsn;
        senderCommittedAt = now();
      }
    });
    const receivers: Receiver[] = [];
    for (let i = 0; i < CLIENTS; i++) receivers.push(new Receiver(edgeUrl, 1000 + i));
    await Promise.all(receivers.map((r) => r.open()));
    await waitFor(() => sender.synced && receivers.every((r) => r.session.status === 'synced'), 30_000, 'edge clients synced');
    const bare = await Floor.open(bareUrl, CLIENTS);
    const bareWrite = await Floor.open(`${bareUrl}-write&mode=write`, CLIENTS);
    const bareSendFirst = await Floor.open(`${bareUrl}-send-first&mode=send-first`, CLIENTS);
    const bareSendLater = await Floor.open(`${bareUrl}-send-later&mode=send-later`, CLIENTS);
    log(`${CLIENTS} edge receivers and 3 x ${CLIENTS} bare receivers connected`);

    let value = 0;
    let frameBytes = 0;
    const ours: number[] = [];
    const lag: number[] = [];
    const edgeShare: number[] = [];
    const originShare: number[] = [];
    const commitAck: number[] = [];
    /**
     * One change from the sender. 'fanout': the origin is paused, the round ends once every
     * receiver has the change and the sender its stored ack; 'warm' and 'lag': the origin
     * runs, the round also waits for the commit at the origin and the committed ack.
     */
    const oursRound = async (phase: 'warm' | 'fanout' | 'lag', timeoutMs = 5_000): Promise<void> => {
      if (GAP_MS > 0) await sleep(GAP_MS);
      const before = receivers.map((r) => r.arrivals);
      const committedBefore = sender.host.committedLsn;
      value++;
      const v = value;
      const t0 = now();
      ackHold.held = ACKS_AFTER;
      sender.host.replica.put('k', v);
      sender.host.drain();
      const frames = sender.mux!.takeFrames();
      for (const f of frames) {
        frameBytes = Math.max(frameBytes, f.length);
        sender.ws!.send(f);
      }
      await waitFor(() => receivers.every((r, i) => r.arrivals > before[i]!), timeoutMs, 'edge fan-out').finally(releaseAcks);
      if (phase === 'fanout') {
        await waitFor(() => sender.host.session!.inflightBytes === 0, timeoutMs, "the sender's stored ack");
        for (const r of receivers) ours.push(r.lastArrival - t0);
        return;
      }
      await waitFor(() => commits.has(v) && senderCommitted > committedBefore, timeoutMs, 'the commit at the origin').catch((e: unknown) => {
        throw new Error(`${String(e)}: origin commit seen: ${commits.has(v)}, committed ack: ${senderCommitted > committedBefore}, delta frames toward the origin: ${observer.ups.length}`);
      });
      if (phase === 'warm') return;
      const seenAt = commits.get(v)!;
      const up = firstAfter(observer.ups, t0);
      lag.push(seenAt - t0);
      if (up !== undefined && up <= seenAt) {
        edgeShare.push(up - t0);
        originShare.push(seenAt - up);
      }
      commitAck.push(senderCommittedAt - t0);
    };
    const floors = [bare, bareWrite, bareSendFirst, bareSendLater];
    for (let i = 0; i < WARMUP; i++) {
      // The first round also waits for the edge's link to the origin to open.
      await oursRound('warm', i === 0 ? 20_000 : 5_000);
      for (const f of floors) await f.round(frameBytes, false);
    }
    // Fan-out against the floors with the origin cluster paused (SIGSTOP): its three
    // processes would otherwise take CPU from workerd in our rounds only (2 shared cores).
    // The edge still does all of its own work: the outbox row and the frame toward the origin.
    origin.pause();
    try {
      for (let done = 0; done < ROUNDS; done += BLOCK) {
        for (let i = 0; i < BLOCK; i++) await oursRound('fanout');
        for (const f of floors) for (let i = 0; i < BLOCK; i++) await f.round(frameBytes, true);
      }
    } finally {
      origin.resume();
    }
    // The lag to the origin's commit, the origin running; first it catches up.
    await waitFor(() => sender.host.disk.pending.length === 0, 60_000, 'the origin catching up after the pause');
    for (let i = 0; i < LAG_ROUNDS; i++) await oursRound('lag');
    const run: Run = {
      fanoutP50Ms: round2(percentile(ours, 50)),
      fanoutP99Ms: round2(percentile(ours, 99)),
      bareFanoutP50Ms: round2(percentile(bare.samples, 50)),
      bareFanoutP99Ms: round2(percentile(bare.samples, 99)),
      bareWriteFanoutP50Ms: round2(percentile(bareWrite.samples, 50)),
      bareWriteFanoutP99Ms: round2(percentile(bareWrite.samples, 99)),
      bareSendFirstFanoutP50Ms: round2(percentile(bareSendFirst.samples, 50)),
      bareSendFirstFanoutP99Ms: round2(percentile(bareSendFirst.samples, 99)),
      bareSendLaterFanoutP50Ms: round2(percentile(bareSendLater.samples, 50)),
      bareSendLaterFanoutP99Ms: round2(percentile(bareSendLater.samples, 99)),
      edgeToOriginLagP50Ms: round2(percentile(lag, 50)),
      edgeToOriginLagP99Ms: round2(percentile(lag, 99)),
      edgeShareP50Ms: round2(percentile(edgeShare, 50)),
      edgeShareP99Ms: round2(percentile(edgeShare, 99)),
      originCommitP50Ms: round2(percentile(originShare, 50)),
      originCommitP99Ms: round2(percentile(originShare, 99)),
      committedAckP50Ms: round2(percentile(commitAck, 50)),
      committedAckP99Ms: round2(percentile(commitAck, 99)),
      frameBytes,
    };
    run.fanoutP99VsBare = round2(run.fanoutP99Ms! / run.bareFanoutP99Ms!);
    await sender.close();
    for (const r of receivers) r.ws.terminate();
    for (const f of floors) f.close();
    return run;
  } finally {
    await dev.stop();
    await observer.stop();
    await origin.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `--runs N` (default 1) measurements one after the other; edge.json gets the median of
 * each figure over the runs (the ratio too: the median of the per-run ratios), every run's
 * figures, and the load average after each run.
 */
async function main(): Promise<void> {
  const json = hasFlag('--json');
  const log = (s: string): void => {
    if (!json) console.error(s);
  };
  const runs: (Run & { uptime: string })[] = [];
  const count = Number(flagValue('--runs') ?? 1);
  for (let i = 0; i < count; i++) {
    log(`run ${i + 1} of ${count}`);
    const r = await measure(log);
    runs.push({ ...r, uptime: loadAverage() } as Run & { uptime: string });
    log(`  fan-out p99 ${r.fanoutP99Ms} ms, bare p99 ${r.bareFanoutP99Ms} ms (ratio ${r.fanoutP99VsBare}); lag p99 ${r.edgeToOriginLagP99Ms} ms; load ${loadAverage()}`);
  }
  const medians: Run = {};
  for (const k of Object.keys(runs[0]!)) if (k !== 'uptime') medians[k] = round2(median(runs.map((r) => r[k] as number)));
  const result = {
    benchmark: 'edge',
    clients: CLIENTS,
    ...medians,
    uptime: runs.map((r) => r.uptime),
    runs,
    rounds: ROUNDS,
    lagRounds: LAG_ROUNDS,
    gapBetweenRoundsMs: GAP_MS,
    warmupRounds: WARMUP,
    receiversAck: ACKS_AFTER ? "after every receiver has the round's frame" : 'at once (setImmediate)',
    setup:
      'wrangler dev 4.85 (workerd) on 127.0.0.1; all clients in one Node process; origin = 3-node Raft cluster (neuroplex cluster, 3 processes) reached through a TCP relay per node in the observer process; commit = the leader streaming the change to a subscriber; fan-out rounds with the origin paused (SIGSTOP), lag rounds after, origin running',
    targets: { fanoutP99VsBare: 1.5, edgeToOriginLagP99Ms: 50 },
    ...machineInfo(),
  };
  writeResult('edge.json', result);
  if (json) {
    console.log(JSON.stringify(result));
    return;
  }
  const row = (name: string, k: string): void => console.log(`| ${name.padEnd(37)} | ${String(medians[k]).padStart(10)} | ${runs.map((r) => String(r[k]).padStart(8)).join(' | ')} |`);
  console.log(`| measure (${count} run${count === 1 ? '' : 's'}: median, then each)${' '.repeat(Math.max(0, 9 - String(count).length))} | median     | ${runs.map((_, i) => `run ${i + 1}`.padStart(8)).join(' | ')} |`);
  console.log(`| ------------------------------------- | ---------- | ${runs.map(() => '--------').join(' | ')} |`);
  row('edge fan-out p50 (ms)', 'fanoutP50Ms');
  row('edge fan-out p99 (ms)', 'fanoutP99Ms');
  row('bare rebroadcast p50 (ms)', 'bareFanoutP50Ms');
  row('bare rebroadcast p99 (ms)', 'bareFanoutP99Ms');
  row('fan-out p99 / bare p99', 'fanoutP99VsBare');
  row('bare, write then send p50 (ms)', 'bareWriteFanoutP50Ms');
  row('bare, write then send p99 (ms)', 'bareWriteFanoutP99Ms');
  row('bare, send then write p50 (ms)', 'bareSendFirstFanoutP50Ms');
  row('bare, send then write p99 (ms)', 'bareSendFirstFanoutP99Ms');
  row('bare, send, write next turn p50 (ms)', 'bareSendLaterFanoutP50Ms');
  row('bare, send, write next turn p99 (ms)', 'bareSendLaterFanoutP99Ms');
  row('change -> origin commit p50 (ms)', 'edgeToOriginLagP50Ms');
  row('change -> origin commit p99 (ms)', 'edgeToOriginLagP99Ms');
  row('  edge share (to the link relay) p50', 'edgeShareP50Ms');
  row('  edge share (to the link relay) p99', 'edgeShareP99Ms');
  row('  origin (relay -> leader) p50 (ms)', 'originCommitP50Ms');
  row('  origin (relay -> leader) p99 (ms)', 'originCommitP99Ms');
  row('change -> committed ack at sender p50', 'committedAckP50Ms');
  row('change -> committed ack at sender p99', 'committedAckP99Ms');
  console.log(`load average after each run: ${runs.map((r) => r.uptime).join(' | ')}`);
  const ratio = medians.fanoutP99VsBare!;
  console.log(`fan-out p99 / bare p99 (median of the runs' ratios) = ${ratio} (target <= 1.5: ${ratio <= 1.5 ? 'met' : 'NOT met'}); origin lag p99 ${medians.edgeToOriginLagP99Ms} ms (target <= 50 ms: ${medians.edgeToOriginLagP99Ms! <= 50 ? 'met' : 'NOT met'})`);
}

function loadAverage(): string {
  return loadavg().map((x) => x.toFixed(2)).join(' ');
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

await main();
