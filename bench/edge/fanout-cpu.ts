// `npx tsx bench/edge/fanout-cpu.ts [-- --json] [-- --clients N] [-- --rounds N]`: where the
// edge replica's own CPU goes per change fanned out to N clients, outside workerd. The
// same core code the Durable Object runs (Multiplexer, ServerSyncSession, a replica and a
// log) driven in one Node process (same V8), phase by phase, with in-memory clients that
// acknowledge as real ones do:
//   decode     the sender's frame through the multiplexer (its delta decoded once)
//   apply      the change applied to the replica and appended to the log
//   fan-out    every session streams the entry: one delta message encoded per recipient
//   acks       the N receivers' acks, each decoded and taken through its session
//   attachments  the N sockets' resume states as JSON (what serializeAttachment is given)
// What workerd adds (a JS event per ack, ws.send, the commit) is not here: bench:edge
// measures those end to end. Writes bench/results/edge-cpu.json.
import type { ReplicaId } from '../../core/src/clock/replica-id.ts';
import { Replica } from '../../core/src/doc/replica.ts';
import { ClientSyncSession } from '../../core/src/sync/client-session.ts';
import { ClientSyncState } from '../../core/src/sync/client-state.ts';
import { MemoryKeyspaceLog } from '../../core/src/sync/memory-keyspace-log.ts';
import { Multiplexer } from '../../core/src/sync/multiplexer.ts';
import { ServerSyncSession } from '../../core/src/sync/server-session.ts';
import { flagValue, hasFlag, machineInfo, median, writeResult } from '../support/report.ts';

const CLIENTS = Number(flagValue('--clients') ?? 100);
const ROUNDS = Number(flagValue('--rounds') ?? 300);
const WARMUP = 100;
const KS = 'bench';

interface Pair {
  readonly client: ClientSyncSession;
  readonly clientMux: Multiplexer;
  readonly replica: Replica;
  readonly serverMux: Multiplexer;
  server: ServerSyncSession | undefined;
}

const serverReplica = new Replica({ replicaId: 1 as ReplicaId, keyspace: KS });
const log = new MemoryKeyspaceLog(serverReplica, 'edge-log');

function pair(id: number): Pair {
  const replica = new Replica({ replicaId: id as ReplicaId, keyspace: KS });
  const clientMux = new Multiplexer();
  const client = new ClientSyncSession({ channel: clientMux.allocateChannel(), keyspace: KS, replica, state: new ClientSyncState(), localStoreLoaded: true });
  clientMux.add(client);
  const p: Pair = {
    client,
    clientMux,
    replica,
    server: undefined,
    serverMux: new Multiplexer({
      accept: (hello) => {
        p.server = new ServerSyncSession({ channel: hello.channel, source: log });
        return p.server;
      },
    }),
  };
  return p;
}

/** Client side of a pair: takes what the server sent, applies and acknowledges it. */
function clientReceives(p: Pair, frames: readonly Uint8Array[]): Uint8Array[] {
  for (const f of frames) p.clientMux.receive(f);
  for (const e of p.client.takeEffects()) {
    if (e.kind === 'deliver') {
      p.replica.applyDelta(e.delta);
      p.client.storedUpTo(e.seq);
    }
  }
  return p.clientMux.takeFrames();
}

/** The server's side of one socket's frames: decode, then its session's effects (stored at once). */
function serverReceives(p: Pair, frames: readonly Uint8Array[]): void {
  for (const f of frames) p.serverMux.receive(f);
  for (const e of p.server?.takeEffects() ?? []) {
    if (e.kind === 'deliver') {
      log.commit(e.delta, e.bytes, e.from);
      p.server!.storedUpTo(e.seq);
      p.server!.committedUpTo(e.seq, log.head());
    }
  }
}

const pairs: Pair[] = [];
for (let i = 0; i <= CLIENTS; i++) pairs.push(pair(1000 + i));
// Handshakes (bounded: a few exchanges bring every session to synced).
for (const p of pairs) p.client.start();
for (let round = 0; round < 10; round++) {
  for (const p of pairs) {
    serverReceives(p, p.clientMux.takeFrames());
    const down = p.serverMux.takeFrames();
    const up = clientReceives(p, down);
    if (up.length > 0) serverReceives(p, up);
  }
}
if (!pairs.every((p) => p.client.status === 'synced')) throw new Error('the in-memory clients did not sync');

const [sender, ...receivers] = pairs as [Pair, ...Pair[]];
sender.replica.onLocalDelta((delta) => sender.client.localDelta(delta));
const phases = { decode: [] as number[], apply: [] as number[], fanout: [] as number[], acks: [] as number[], attachments: [] as number[] };
let frameBytes = 0;
for (let r = 0; r < WARMUP + ROUNDS; r++) {
  sender.replica.put('k', r);
  for (const e of sender.client.takeEffects()) void e;
  const up = sender.clientMux.takeFrames();
  frameBytes = Math.max(frameBytes, ...up.map((f) => f.length));
  const t0 = performance.now();
  for (const f of up) sender.serverMux.receive(f);
  const t1 = performance.now();
  const effects = sender.server!.takeEffects();
  for (const e of effects) {
    if (e.kind !== 'deliver') continue;
    log.commit(e.delta, e.bytes, e.from);
    sender.server!.storedUpTo(e.seq);
    sender.server!.committedUpTo(e.seq, log.head());
  }
  const t2 = performance.now();
  const out: Uint8Array[][] = [];
  for (const p of pairs) {
    p.server!.logAdvanced();
    out.push(p.serverMux.takeFrames());
  }
  const t3 = performance.now();
  // The receivers (not timed) apply the change and answer with their acks.
  const acks: Uint8Array[][] = [];
  for (let i = 0; i < pairs.length; i++) acks.push(clientReceives(pairs[i]!, out[i]!));
  const t4 = performance.now();
  for (let i = 0; i < pairs.length; i++) {
    const p = pairs[i]!;
    for (const f of acks[i]!) p.serverMux.receive(f);
    p.server!.takeEffects();
    p.serverMux.takeFrames();
  }
  const t5 = performance.now();
  for (const p of pairs) JSON.stringify({ keyspace: KS, hello: true, sessions: [p.server!.resumeState() ?? null] });
  const t6 = performance.now();
  if (r < WARMUP) continue;
  phases.decode.push((t1 - t0) * 1000);
  phases.apply.push((t2 - t1) * 1000);
  phases.fanout.push((t3 - t2) * 1000);
  phases.acks.push((t5 - t4) * 1000);
  phases.attachments.push((t6 - t5) * 1000);
}
if (!receivers.every((p) => p.replica.get('k') === WARMUP + ROUNDS - 1)) throw new Error(`a receiver missed a change: ${String(receivers[0]!.replica.get('k'))} ${log.head()} ${receivers[0]!.server!.sentPosition}`);

const us = (xs: number[]): number => Math.round(median(xs) * 10) / 10;
const result = {
  benchmark: 'edge-cpu',
  clients: CLIENTS,
  rounds: ROUNDS,
  frameBytes,
  decodeUs: us(phases.decode),
  applyUs: us(phases.apply),
  fanoutEncodeUs: us(phases.fanout),
  fanoutEncodePerRecipientUs: Math.round((median(phases.fanout) / pairs.length) * 100) / 100,
  acksUs: us(phases.acks),
  attachmentsJsonUs: us(phases.attachments),
  note: 'medians per change, µs of CPU in one Node process (V8), excluding workerd (event dispatch, ws.send, SQLite commit)',
  ...machineInfo(),
};
writeResult('edge-cpu.json', result);
if (hasFlag('--json')) console.log(JSON.stringify(result));
else {
  console.log(`| phase (per change, ${CLIENTS} receivers)     | median µs |`);
  console.log('| ----------------------------------------- | --------- |');
  console.log(`| decode the sender's frame                 | ${String(result.decodeUs).padStart(9)} |`);
  console.log(`| apply + append to the log                 | ${String(result.applyUs).padStart(9)} |`);
  console.log(`| fan-out: stream + encode per recipient    | ${String(result.fanoutEncodeUs).padStart(9)} |`);
  console.log(`| the receivers' acks through the sessions  | ${String(result.acksUs).padStart(9)} |`);
  console.log(`| attachments' resume state as JSON         | ${String(result.attachmentsJsonUs).padStart(9)} |`);
}
