// The origin's sync shell: serves the pure sync sessions (core/src/sync) over any ordered
// frame transport. Clients' deltas are committed through the node's replicated log as
// batched `crdt` commands (one in flight per keyspace) and acknowledged only once applied;
// every node streams what its state machine applies to every session subscribed to that
// keyspace, whichever node the change was written on. A client resumes by log on any node
// (committed-keyspace-source.ts serves older positions from the stored tail; a node behind
// the client's cursor catches up first, see `accept`). Presence (ephemeral, never
// committed) is relayed by OriginPresence (origin-presence.ts).
import type { ReplicaId } from '../../../core/src/clock/replica-id.ts';
import { MAX_CRDT_DELTAS } from '../../../core/src/kv/command-codec.ts';
import type { CrdtDeltaItem, KvCommand, KvResult } from '../../../core/src/kv/commands.ts';
import type { CrdtApplied } from '../../../core/src/kv/crdt-keyspaces.ts';
import { isKeyspace } from '../../../core/src/kv/limits.ts';
import type { KvStateMachine } from '../../../core/src/kv/state-machine.ts';
import { RefuseReason } from '../../../core/src/sync/errors.ts';
import type { HelloMessage, SyncMode } from '../../../core/src/sync/messages.ts';
import { Multiplexer } from '../../../core/src/sync/multiplexer.ts';
import { type Authorize, ServerSyncSession } from '../../../core/src/sync/server-session.ts';
import { CommittedKeyspaceSource, EMPTY_LOG_ID } from './committed-keyspace-source.ts';
import { OriginPresence } from './origin-presence.ts';

/** What the shell needs of a node (RaftNode and LocalNode both fit). */
export interface SyncCommitter {
  readonly stateMachine: KvStateMachine;
  propose(command: KvCommand, options: { timeoutMs: number }): Promise<KvResult>;
  /** The current Raft term: a proposal outlived by its term may be lost, so it is not awaited. */
  cluster?(): { readonly term: number };
}

/** Batches of one keyspace proposed at once. */
const MAX_BATCHES_IN_FLIGHT = 4;
/** How often an outstanding batch checks for a new term. */
const TERM_POLL_MS = 50;

/** A transport for one connection: ordered binary frames. */
export interface FrameSink {
  send(frame: Uint8Array): void;
  /** Ends the connection (the client reconnects and resends what was not acknowledged). */
  close(reason: string): void;
}

export interface OriginSyncOptions {
  readonly node: SyncCommitter;
  /** Checked at each channel's handshake; without it every token is accepted. */
  readonly authorize?: Authorize;
  /** How long a batch may wait for its commit before its connections are closed. */
  readonly commitTimeoutMs?: number;
  /** Payload bytes of one committed batch at most (default 4 MiB). */
  readonly maxBatchBytes?: number;
  /** Drop a present peer not heard from for this long (default 30 s). */
  readonly presenceTimeoutMs?: number;
  /** Told of each session welcomed, with how it is brought up to date (for metrics). */
  readonly onWelcome?: (mode: SyncMode) => void;
  /**
   * How long a hello whose cursor names a Raft entry this node has not applied yet waits for
   * it before it is answered anyway (default 3 s). See `accept`.
   */
  readonly catchUpWaitMs?: number;
}

/** A session whose hello waits until the node applied the entry its cursor names. */
interface CatchingUp {
  readonly session: ServerSyncSession;
  readonly conn: OriginConnection;
  readonly index: number;
  readonly timer: ReturnType<typeof setTimeout>;
}

interface Waiting {
  readonly conn: OriginConnection;
  readonly session: ServerSyncSession;
  readonly seq: number;
  readonly item: CrdtDeltaItem;
}

interface KeyspaceHub {
  readonly source: CommittedKeyspaceSource;
  readonly sessions: Map<ServerSyncSession, OriginConnection>;
  queue: Waiting[];
  /** Batches proposed and not yet answered. */
  inFlight: number;
  scheduled: boolean;
  /** Answers are handled in proposal order along this chain. */
  answers: Promise<void>;
  catchingUp: CatchingUp[];
}

export class OriginSync {
  private readonly node: SyncCommitter;
  private readonly authorize: Authorize | undefined;
  private readonly commitTimeoutMs: number;
  private readonly maxBatchBytes: number;
  private readonly hubs = new Map<string, KeyspaceHub>();
  private readonly connections = new Set<OriginConnection>();
  private readonly unlisten: () => void;
  /** Ephemeral presence: relayed to this node's sessions and the other nodes, never stored. */
  readonly presence: OriginPresence;
  /** Deltas committed and acknowledged (for metrics and tests). */
  committedDeltas = 0;
  committedBatches = 0;
  /**
   * Sessions welcomed, by how they were brought up to date. A reconnect that gets a
   * snapshot instead of the log tail costs the whole state (metrics and tests).
   */
  readonly welcomes: Record<SyncMode, number> = { log: 0, snapshot: 0, context: 0 };
  private readonly onWelcome: ((mode: SyncMode) => void) | undefined;
  private readonly catchUpWaitMs: number;

  constructor(options: OriginSyncOptions) {
    this.node = options.node;
    this.authorize = options.authorize;
    this.commitTimeoutMs = options.commitTimeoutMs ?? 10_000;
    this.maxBatchBytes = options.maxBatchBytes ?? 4 << 20;
    this.onWelcome = options.onWelcome;
    this.catchUpWaitMs = options.catchUpWaitMs ?? 3_000;
    this.unlisten = this.node.stateMachine.onCrdtApplied((a) => this.onApplied(a));
    this.presence = new OriginPresence({
      sessionsOf: (ks) => this.hubs.get(ks)?.sessions.keys() ?? [],
      flush: (sessions) => {
        const conns = new Set<OriginConnection>();
        for (const s of sessions) {
          const c = this.hubs.get(s.source.keyspace)?.sessions.get(s);
          if (c !== undefined) conns.add(c);
        }
        for (const c of conns) c.flush();
      },
      ...(options.presenceTimeoutMs === undefined ? {} : { timeoutMs: options.presenceTimeoutMs }),
    });
  }

  /** A new transport connection; feed its frames to `receive`, call `closed` when it ends. */
  open(sink: FrameSink): OriginConnection {
    const conn = new OriginConnection(this, sink);
    this.connections.add(conn);
    return conn;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Ends every connection and stops listening. */
  close(): void {
    this.unlisten();
    for (const hub of this.hubs.values()) takeWaits(hub, () => true);
    this.presence.close();
    for (const c of [...this.connections]) c.end('origin shutting down');
  }

  /** Storage was replaced under the state machine (snapshot restore). */
  reset(): void {
    const applied = this.node.stateMachine.appliedIndex;
    for (const hub of this.hubs.values()) {
      hub.source.reset();
      // A restore can carry the node past what a held hello waits for, with no entry applied.
      this.caughtUp(hub, (w) => w.index <= applied);
      for (const s of hub.sessions.keys()) s.logAdvanced();
    }
    this.flushAll();
  }

  // ---- for connections ---------------------------------------------------------------

  /**
   * A session for a channel's hello. Positions name Raft entries (position / MAX_CRDT_DELTAS
   * is the index), so a cursor past what this node applied comes from a node further ahead:
   * after a failover, the client may return before this node applied the last entries it
   * saw elsewhere. Answered at once, it would get a snapshot (its cursor is past the head);
   * its authorized hello waits instead until the node applied that entry, or at most
   * `catchUpWaitMs` (bounded: the entry may never come, e.g. a cluster rebuilt from scratch
   * before the keyspace's first delta here).
   */
  accept(conn: OriginConnection, hello: HelloMessage): ServerSyncSession | RefuseReason {
    if (!isKeyspace(hello.keyspace)) return RefuseReason.UnknownKeyspace;
    const hub = this.hub(hello.keyspace);
    const resume = hello.resume;
    // Only a cursor of this keyspace's log (or of a log this node has not started yet) can
    // name an entry still to come here; another log's cursor gets its snapshot at once.
    const sameLog = resume.mode === 'cursor' && (resume.logId === hub.source.logId || hub.source.logId === EMPTY_LOG_ID);
    const index = sameLog ? Math.floor(resume.position / MAX_CRDT_DELTAS) : 0;
    const real = this.authorize;
    let authorize = real;
    if (index > this.node.stateMachine.appliedIndex) {
      authorize = (token, keyspace, replica) => {
        const verdict = real === undefined ? true : real(token, keyspace, replica);
        // An authorizer that answers later ('pending') skips the wait: its session is
        // welcomed when it answers, by snapshot if the node is still behind (none does today).
        if (verdict !== true) return verdict;
        this.catchUp(hub, session, conn, index);
        return 'pending';
      };
    }
    const session: ServerSyncSession = new ServerSyncSession({ channel: hello.channel, source: hub.source, authorize });
    hub.sessions.set(session, conn);
    return session;
  }

  forget(conn: OriginConnection): void {
    this.connections.delete(conn);
    for (const hub of this.hubs.values()) {
      takeWaits(hub, (w) => w.conn === conn);
      for (const [s, c] of hub.sessions) {
        if (c !== conn) continue;
        hub.sessions.delete(s);
        this.presence.sessionGone(s);
      }
      hub.queue = hub.queue.filter((w) => w.conn !== conn);
    }
  }

  sessionEnded(session: ServerSyncSession): void {
    const hub = this.hubs.get(session.source.keyspace);
    if (hub !== undefined) {
      hub.sessions.delete(session);
      takeWaits(hub, (w) => w.session === session); // closed while its hello waited
    }
    this.presence.sessionGone(session);
  }

  /** A session was welcomed (counted by mode: a snapshot costs the whole state). */
  welcomed(mode: SyncMode): void {
    this.welcomes[mode]++;
    this.onWelcome?.(mode);
  }

  /** A client's validated delta: queue it for the next batch of its keyspace. */
  enqueue(conn: OriginConnection, session: ServerSyncSession, seq: number, bytes: Uint8Array, from: ReplicaId): void {
    const hub = this.hub(session.source.keyspace);
    hub.queue.push({ conn, session, seq, item: { origin: from, bytes } });
    this.schedule(hub);
  }

  // ---- internals ---------------------------------------------------------------------

  private hub(ks: string): KeyspaceHub {
    let hub = this.hubs.get(ks);
    if (hub === undefined) {
      hub = { source: new CommittedKeyspaceSource(this.node.stateMachine, ks), sessions: new Map(), queue: [], inFlight: 0, scheduled: false, answers: Promise.resolve(), catchingUp: [] };
      this.hubs.set(ks, hub);
    }
    return hub;
  }

  /** Holds a session's welcome until the node applied Raft entry `index` (or the wait ends). */
  private catchUp(hub: KeyspaceHub, session: ServerSyncSession, conn: OriginConnection, index: number): void {
    const timer = setTimeout(() => this.caughtUp(hub, (w) => w.session === session), this.catchUpWaitMs);
    timer.unref?.();
    hub.catchingUp.push({ session, conn, index, timer });
  }

  /** Welcomes the waiting sessions `done` picks: they go on as their cursor allows now. */
  private caughtUp(hub: KeyspaceHub, done: (w: CatchingUp) => boolean): void {
    for (const w of takeWaits(hub, done)) {
      w.session.authorizationResult(true);
      w.conn.flush();
    }
  }

  /** One turn of the event loop gathers what other connections deliver meanwhile. */
  private schedule(hub: KeyspaceHub): void {
    if (hub.scheduled || hub.inFlight >= MAX_BATCHES_IN_FLIGHT || hub.queue.length === 0) return;
    hub.scheduled = true;
    setImmediate(() => {
      hub.scheduled = false;
      this.proposeQueued(hub);
    });
  }

  /**
   * Proposes queued deltas in batches, several in flight (Raft pipelines them); answers are
   * handled strictly in proposal order, so each session's acknowledgements only grow.
   */
  private proposeQueued(hub: KeyspaceHub): void {
    while (hub.inFlight < MAX_BATCHES_IN_FLIGHT && hub.queue.length > 0) {
      let bytes = 0;
      let n = 0;
      while (n < hub.queue.length && n < MAX_CRDT_DELTAS && (n === 0 || bytes + hub.queue[n]!.item.bytes.length <= this.maxBatchBytes)) {
        bytes += hub.queue[n]!.item.bytes.length;
        n++;
      }
      const batch = hub.queue.splice(0, n);
      hub.inFlight++;
      const outcome = this.propose(hub, batch);
      hub.answers = hub.answers.then(async () => {
        this.settle(hub, batch, await outcome);
        hub.inFlight--;
        this.schedule(hub);
      });
    }
  }

  /** The batch's result, or the reason it failed (never rejects). */
  private async propose(hub: KeyspaceHub, batch: readonly Waiting[]): Promise<KvResult | string> {
    try {
      const proposal = this.node.propose({ type: 'crdt', ks: hub.source.keyspace, deltas: batch.map((w) => w.item) }, { timeoutMs: this.commitTimeoutMs });
      return await this.unlessTermChanges(proposal);
    } catch (e) {
      return (e as Error).message;
    }
  }

  private settle(hub: KeyspaceHub, batch: readonly Waiting[], outcome: KvResult | string): void {
    if (typeof outcome !== 'string' && outcome.status === 'ok') {
      this.committedBatches++;
      this.committedDeltas += batch.length;
      // Every delta of this batch is in the log (or was already held): acknowledge the
      // last seq of each session, naming the newest position the keyspace has.
      const last = new Map<ServerSyncSession, Waiting>();
      for (const w of batch) last.set(w.session, w);
      const position = hub.source.head();
      for (const [s, w] of last) if (!s.closed && w.conn.live) s.committedUpTo(w.seq, position);
      for (const w of last.values()) w.conn.flush();
      return;
    }
    // Not committed (no quorum, timeout, new term): end those connections; their clients
    // keep the changes pending and resend them after reconnecting (joined idempotently).
    const reason = typeof outcome === 'string' ? outcome : `commit refused: ${outcome.status}`;
    const conns = new Set(batch.map((w) => w.conn));
    hub.queue = hub.queue.filter((w) => !conns.has(w.conn));
    for (const c of conns) c.end(`changes not committed: ${reason}`);
  }

  /**
   * The proposal's answer, or a rejection once the term moves on (a proposal forwarded to a
   * leader that died is dropped without an answer; waiting for the timeout would stall the
   * keyspace). The clients resend; a delta that did commit is then skipped as already held.
   */
  private unlessTermChanges(proposal: Promise<KvResult>): Promise<KvResult> {
    const cluster = this.node.cluster?.bind(this.node);
    if (cluster === undefined) return proposal;
    const term = cluster().term;
    let timer: ReturnType<typeof setInterval> | undefined;
    const moved = new Promise<never>((_resolve, reject) => {
      timer = setInterval(() => {
        if (cluster().term !== term) reject(new Error(`term moved on from ${term} before the batch committed`));
      }, TERM_POLL_MS);
    });
    return Promise.race([proposal, moved]).finally(() => clearInterval(timer));
  }

  private onApplied(a: CrdtApplied): void {
    const hub = this.hubs.get(a.ks);
    if (hub === undefined) return;
    hub.source.append(a.entries);
    const applied = this.node.stateMachine.appliedIndex;
    this.caughtUp(hub, (w) => w.index <= applied);
    const touched = new Set<OriginConnection>();
    for (const [s, c] of hub.sessions) {
      s.logAdvanced();
      touched.add(c);
    }
    for (const c of touched) c.flush();
  }

  private flushAll(): void {
    for (const c of this.connections) c.flush();
  }
}

/** One transport connection: a multiplexer of sessions, one per keyspace channel. */
/** Removes the waits `pick` selects from `hub`, their timers cleared; returns them. */
function takeWaits(hub: KeyspaceHub, pick: (w: CatchingUp) => boolean): CatchingUp[] {
  if (hub.catchingUp.length === 0) return [];
  const taken: CatchingUp[] = [];
  const kept: CatchingUp[] = [];
  for (const w of hub.catchingUp) (pick(w) ? taken : kept).push(w);
  for (const w of taken) clearTimeout(w.timer);
  hub.catchingUp = kept;
  return taken;
}

export class OriginConnection {
  private readonly sync: OriginSync;
  private readonly sink: FrameSink;
  readonly mux: Multiplexer;
  live = true;

  constructor(sync: OriginSync, sink: FrameSink) {
    this.sync = sync;
    this.sink = sink;
    this.mux = new Multiplexer({ accept: (hello) => sync.accept(this, hello) });
  }

  receive(frame: Uint8Array): void {
    if (!this.live) return;
    this.mux.receive(frame);
    this.flush();
    if (this.mux.error !== undefined) this.end(this.mux.error.message);
  }

  /** Carries out the sessions' effects and sends their frames. */
  flush(): void {
    if (!this.live) return;
    for (const ch of this.mux.channels) {
      const s = this.mux.session(ch) as ServerSyncSession | undefined;
      if (s === undefined) continue;
      for (const e of s.takeEffects()) {
        if (e.kind === 'deliver') this.sync.enqueue(this, s, e.seq, e.bytes, e.from);
        else if (e.kind === 'presence') this.sync.presence.fromSession(s, e.peer, e.state, e.first);
        else if (e.kind === 'closed') this.sync.sessionEnded(s);
        else if (e.kind === 'status' && e.status === 'syncing' && s.mode !== undefined) this.sync.welcomed(s.mode);
      }
    }
    for (const f of this.mux.takeFrames()) this.sink.send(f);
  }

  /** The transport closed (or is being closed): forget every session. */
  closed(): void {
    if (!this.live) return;
    this.live = false;
    this.sync.forget(this);
  }

  end(reason: string): void {
    if (!this.live) return;
    this.closed();
    this.sink.close(reason);
  }
}
