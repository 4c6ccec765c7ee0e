// `npm run bench:edge [-- --json] [-- --clients N] [-- --rounds N]`: fan-out latency of the
// edge through real workerd (wrangler dev on loopback). One sender and N receivers of one
// keyspace replica; per round the sender makes one change and every receiver's arrival time
// of the delta frame is recorded (at the socket's message event). The floor is measured in
// the same wrangler process: a bare Durable Object that rebroadcasts a same-size frame to
// the same number of sockets. The edge is linked to an origin stand-in (core
// ServerSyncSession over an in-memory log) in its own process (origin-stand-in.ts), giving
// the change-to-origin-commit lag split in two: the edge's share (the sender's send to the
// delta frame arriving on the origin's socket) and the origin's (arrival to commit); and
// the whole round trip to the committed ack back at the sender. Receivers stamp a frame
// when it arrives and run their protocol work (decode, ack) after every socket's pending
// input was stamped, so one Node process hosting 100 clients does not inflate the figures.
// Rounds of the two kinds alternate in blocks after a warm-up. Writes bench/results/edge.json.
import { type ChildProcess, spawn } from 'node:child_process';
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
import { EdgeClient, startWranglerDev, waitFor } from '../../test/support/edge-harness.ts';
import { flagValue, hasFlag, machineInfo, writeResult } from '../support/report.ts';
import { freePort } from '../../test/support/free-port.ts';

const CLIENTS = Number(flagValue('--clients') ?? 100);
const ROUNDS = Number(flagValue('--rounds') ?? 100);
const WARMUP = 30;
const BLOCK = 10;
const KS = 'bench';
const ROOT = join(import.meta.dirname, '..', '..');

/** Wall-clock ms, comparable with the origin process's stamps. */
const now = (): number => performance.timeOrigin + performance.now();


function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
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
      // The protocol work runs after the other sockets' input of this turn is stamped.
      setImmediate(() => {
        this.mux.receive(frame);
        for (const e of this.session.takeEffects()) if (e.kind === 'deliver') this.session.storedUpTo(e.seq);
        this.flush();
      });
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

interface OriginCommit {
  readonly recvAt: number;
  readonly commitAt: number;
}

/** Starts origin-stand-in.ts; resolves with its port once it listens. */
async function startOrigin(commits: Map<number, OriginCommit>): Promise<{ port: number; child: ChildProcess; stop(): Promise<void> }> {
  const child = spawn(join(ROOT, 'node_modules', '.bin', 'tsx'), [join(ROOT, 'bench', 'edge', 'origin-stand-in.ts'), KS], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let buf = '';
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('origin stand-in did not start')), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = JSON.parse(buf.slice(0, nl)) as { port?: number; k?: unknown; recvAt?: number; commitAt?: number };
        buf = buf.slice(nl + 1);
        if (line.port !== undefined) {
          clearTimeout(t);
          resolve(line.port);
        } else if (typeof line.k === 'number') commits.set(line.k, { recvAt: line.recvAt!, commitAt: line.commitAt! });
      }
    });
    child.once('exit', () => reject(new Error('origin stand-in exited')));
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
  };
  return { port, child, stop };
}

async function main(): Promise<void> {
  const json = hasFlag('--json');
  const log = (s: string): void => {
    if (!json) console.error(s);
  };
  const dir = mkdtempSync(join(tmpdir(), 'np-edge-bench-'));
  const commits = new Map<number, OriginCommit>();
  const origin = await startOrigin(commits);
  const originPort = origin.port;
  const port = await freePort();
  log(`starting wrangler dev on ${port} ...`);
  const dev = await startWranglerDev({ port, persistTo: dir, config: 'bench/edge/wrangler.bench.toml', vars: { ORIGIN_URL: `http://127.0.0.1:${originPort}` } });
  // Ctrl-C: stop wrangler's process group (it runs detached) before leaving.
  const interrupted = (): void => {
    void Promise.all([dev.stop(), origin.stop()]).finally(() => process.exit(130));
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
    const oursRound = async (record: boolean, timeoutMs = 5_000): Promise<void> => {
      const before = receivers.map((r) => r.arrivals);
      const committedBefore = sender.host.committedLsn;
      value++;
      const v = value;
      const t0 = now();
      sender.host.replica.put('k', v);
      sender.host.drain();
      const frames = sender.mux!.takeFrames();
      for (const f of frames) {
        frameBytes = Math.max(frameBytes, f.length);
        sender.ws!.send(f);
      }
      await waitFor(() => receivers.every((r, i) => r.arrivals > before[i]!) && commits.has(v) && senderCommitted > committedBefore, timeoutMs, 'edge fan-out round');
      if (!record) return;
      for (const r of receivers) ours.push(r.lastArrival - t0);
      const c = commits.get(v)!;
      lag.push(c.commitAt - t0);
      edgeShare.push(c.recvAt - t0);
      originShare.push(c.commitAt - c.recvAt);
      commitAck.push(senderCommittedAt - t0);
    };
    for (let i = 0; i < WARMUP; i++) {
      // The first round also waits for the edge's link to the origin to open.
      await oursRound(false, i === 0 ? 20_000 : 5_000);
      await bare.round(frameBytes, false);
      await bareWrite.round(frameBytes, false);
      await bareSendFirst.round(frameBytes, false);
      await bareSendLater.round(frameBytes, false);
    }
    for (let done = 0; done < ROUNDS; done += BLOCK) {
      for (let i = 0; i < BLOCK; i++) await oursRound(true);
      for (let i = 0; i < BLOCK; i++) await bare.round(frameBytes, true);
      for (let i = 0; i < BLOCK; i++) await bareWrite.round(frameBytes, true);
      for (let i = 0; i < BLOCK; i++) await bareSendFirst.round(frameBytes, true);
      for (let i = 0; i < BLOCK; i++) await bareSendLater.round(frameBytes, true);
    }
    const result = {
      benchmark: 'edge',
      clients: CLIENTS,
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
      uptime: loadAverage(),
      rounds: ROUNDS,
      warmupRounds: WARMUP,
      frameBytes,
      setup: 'wrangler dev 4.85 (workerd) on 127.0.0.1; all clients and the origin stand-in in one Node process; origin = core ServerSyncSession over MemoryKeyspaceLog in its own Node process (not the Raft origin)',
      targets: { fanoutP99VsBare: 1.5, edgeToOriginLagP99Ms: 50 },
      ...machineInfo(),
    };
    writeResult('edge.json', result);
    await sender.close();
    for (const r of receivers) r.ws.terminate();
    bare.close();
    bareWrite.close();
    bareSendFirst.close();
    bareSendLater.close();
    if (json) {
      console.log(JSON.stringify(result));
    } else {
      const ratio = result.fanoutP99Ms / result.bareFanoutP99Ms;
      console.log('| measure                               | value      |');
      console.log('| ------------------------------------- | ---------- |');
      console.log(`| clients                               | ${String(CLIENTS).padStart(10)} |`);
      console.log(`| edge fan-out p50 (ms)                 | ${String(result.fanoutP50Ms).padStart(10)} |`);
      console.log(`| edge fan-out p99 (ms)                 | ${String(result.fanoutP99Ms).padStart(10)} |`);
      console.log(`| bare rebroadcast p50 (ms)             | ${String(result.bareFanoutP50Ms).padStart(10)} |`);
      console.log(`| bare rebroadcast p99 (ms)             | ${String(result.bareFanoutP99Ms).padStart(10)} |`);
      console.log(`| bare, write then send p50 (ms)        | ${String(result.bareWriteFanoutP50Ms).padStart(10)} |`);
      console.log(`| bare, write then send p99 (ms)        | ${String(result.bareWriteFanoutP99Ms).padStart(10)} |`);
      console.log(`| bare, send then write p50 (ms)        | ${String(result.bareSendFirstFanoutP50Ms).padStart(10)} |`);
      console.log(`| bare, send then write p99 (ms)        | ${String(result.bareSendFirstFanoutP99Ms).padStart(10)} |`);
      console.log(`| bare, send, write next turn p50 (ms)  | ${String(result.bareSendLaterFanoutP50Ms).padStart(10)} |`);
      console.log(`| bare, send, write next turn p99 (ms)  | ${String(result.bareSendLaterFanoutP99Ms).padStart(10)} |`);
      console.log(`| change -> origin commit p50 (ms)      | ${String(result.edgeToOriginLagP50Ms).padStart(10)} |`);
      console.log(`| change -> origin commit p99 (ms)      | ${String(result.edgeToOriginLagP99Ms).padStart(10)} |`);
      console.log(`|   edge share: to origin socket p99    | ${String(result.edgeShareP99Ms).padStart(10)} |`);
      console.log(`|   origin: socket -> commit p99 (ms)   | ${String(result.originCommitP99Ms).padStart(10)} |`);
      console.log(`| change -> committed ack at sender p99 | ${String(result.committedAckP99Ms).padStart(10)} |`);
      console.log(`load average at the end: ${result.uptime}`);
      console.log(`fan-out p99 / bare p99 = ${ratio.toFixed(2)} (target <= 1.5: ${ratio <= 1.5 ? 'met' : 'NOT met'}); origin lag p99 target <= 50 ms: ${result.edgeToOriginLagP99Ms <= 50 ? 'met' : 'NOT met'}`);
    }
  } finally {
    await dev.stop();
    await origin.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function loadAverage(): string {
  return loadavg().map((x) => x.toFixed(2)).join(' ');
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

await main();
