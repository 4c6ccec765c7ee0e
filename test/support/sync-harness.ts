// In-memory shells for the sync sessions: a server host per keyspace (replica + memory
// log, commits on request), client hosts (replica + ClientSyncState, the "storage" that
// survives a disconnect), and links (one ordered connection: two frame queues between
// two multiplexers). Tests and the simulation drive these step by step.
import type { ReplicaId } from '../../core/src/clock/replica-id.ts';
import type { Delta } from '../../core/src/crdt/delta.ts';
import type { MapStore } from '../../core/src/crdt/map-store.ts';
import { Replica } from '../../core/src/doc/replica.ts';
import { ClientSyncState, type PendingDelta, TransferBuffer } from '../../core/src/sync/client-state.ts';
import { ClientSyncSession, type ClientSessionOptions } from '../../core/src/sync/client-session.ts';
import { decodeMessage } from '../../core/src/sync/codec.ts';
import type { SyncEffect, SyncStatus } from '../../core/src/sync/effects.ts';
import { RefuseReason, type SyncProtocolError } from '../../core/src/sync/errors.ts';
import type { KeyspaceSource } from '../../core/src/sync/keyspace-source.ts';
import { MemoryKeyspaceLog, type MemoryKeyspaceLogOptions } from '../../core/src/sync/memory-keyspace-log.ts';
import type { HelloMessage, SyncMessage } from '../../core/src/sync/messages.ts';
import { Multiplexer } from '../../core/src/sync/multiplexer.ts';
import { type Authorize, ServerSyncSession, type ServerSessionOptions } from '../../core/src/sync/server-session.ts';

interface PendingCommit {
  readonly session: ServerSyncSession;
  readonly seq: number;
  readonly delta: Delta<MapStore>;
  readonly bytes: Uint8Array;
  readonly from: ReplicaId;
}

export class ServerHost {
  readonly replica: Replica;
  readonly log: MemoryKeyspaceLog;
  readonly sessions = new Set<ServerSyncSession>();
  /** Commits wait for flushCommits() when true (the origin's Raft round). */
  deferCommits = false;
  /** With deferCommits: acknowledge `stored` at once, `committed` at the flush (an edge). */
  storeOnReceipt = false;
  authorize: Authorize | undefined = undefined;
  /** What sessions read; the log unless a test wraps it. */
  source: KeyspaceSource;
  sessionOptions: Partial<ServerSessionOptions> = {};
  readonly pending: PendingCommit[] = [];
  readonly errors: SyncProtocolError[] = [];

  constructor(id: number, keyspace = 'default', logId = `log-${keyspace}`, logOptions: MemoryKeyspaceLogOptions = {}) {
    this.replica = new Replica({ replicaId: id as ReplicaId, keyspace });
    this.log = new MemoryKeyspaceLog(this.replica, logId, logOptions);
    this.source = this.log;
    // The server's own writes go into its log like everyone else's.
    this.replica.onLocalDelta((delta) => {
      this.log.appendApplied(this.replica.encodeDelta(delta), this.replica.id);
      for (const s of this.sessions) s.logAdvanced();
    });
  }

  accept(hello: HelloMessage): ServerSyncSession {
    const s = new ServerSyncSession({ ...this.sessionOptions, channel: hello.channel, source: this.source, authorize: this.authorize });
    this.sessions.add(s);
    return s;
  }

  /** Drains every session's effects; returns how many there were. */
  drain(): number {
    let n = 0;
    const batch: PendingCommit[] = [];
    for (const s of this.sessions) {
      for (const e of s.takeEffects()) {
        n++;
        if (e.kind === 'deliver') {
          const c = { session: s, seq: e.seq, delta: e.delta, bytes: e.bytes, from: e.from };
          if (!this.deferCommits) batch.push(c);
          else {
            this.pending.push(c);
            if (this.storeOnReceipt) s.storedUpTo(e.seq);
          }
        } else if (e.kind === 'closed') {
          if (e.error !== undefined) this.errors.push(e.error);
          this.sessions.delete(s);
        }
      }
    }
    if (batch.length > 0) this.commitBatch(batch);
    return n;
  }

  /** Commits up to `max` deferred changes, in arrival order. */
  flushCommits(max = Infinity): number {
    const n = Math.min(max, this.pending.length);
    if (n > 0) this.commitBatch(this.pending.splice(0, n));
    return n;
  }

  /** Commits a batch (one Raft round), then acknowledges each session once and streams. */
  private commitBatch(batch: readonly PendingCommit[]): void {
    const acks = new Map<ServerSyncSession, { seq: number; position: number }>();
    for (const c of batch) {
      const position = this.log.commit(c.delta, c.bytes, c.from);
      acks.set(c.session, { seq: c.seq, position });
    }
    for (const [s, a] of acks) {
      if (!this.sessions.has(s)) continue;
      s.committedUpTo(a.seq, a.position);
    }
    for (const s of this.sessions) s.logAdvanced();
  }

  /** A lost connection: its sessions vanish without a word. */
  forget(sessions: Iterable<ServerSyncSession>): void {
    for (const s of sessions) this.sessions.delete(s);
  }
}

/**
 * What a client shell persists, updated only from the session's effects (and local ops):
 * a restart rebuilds the client from this, so the effects are shown to be enough.
 */
interface ClientDisk {
  logId: string;
  position: number;
  pending: PendingDelta[];
  transfer: TransferBuffer | undefined;
}

export class ClientHost {
  replica: Replica;
  state: ClientSyncState;
  readonly disk: ClientDisk = { logId: '', position: 0, pending: [], transfer: undefined };
  /** The persisted cursor after every effect that changed it, in order. */
  readonly cursors: { readonly logId: string; readonly position: number }[] = [];
  session: ClientSyncSession | undefined = undefined;
  /** storedUpTo is held back while true (a slow client). */
  holdAcks = false;
  private heldAck = 0;
  readonly statuses: SyncStatus[] = [];
  readonly delivered: SyncEffect[] = [];
  readonly errors: SyncProtocolError[] = [];
  /** Highest lsn acknowledged as committed. */
  committedLsn = 0;
  /** Every local change by lsn (to check that acknowledged ones are never lost). */
  readonly local = new Map<number, Delta<MapStore>>();

  constructor(id: number, keyspace = 'default') {
    this.replica = new Replica({ replicaId: id as ReplicaId, keyspace });
    this.state = new ClientSyncState();
    this.listen();
  }

  private listen(): void {
    this.replica.onLocalDelta((delta) => {
      const live = this.session !== undefined && !this.session.closed;
      const p = live ? this.session!.localDelta(delta) : this.state.addLocal(this.replica.encodeDelta(delta));
      this.disk.pending.push(p);
      this.local.set(p.lsn, delta);
    });
  }

  /**
   * A crash and reload: the session is gone, effects not yet drained are lost, and the
   * replica and sync state come back from what was persisted. (The replica's state is
   * persisted as it is applied, so its snapshot stands for the stored copy.)
   */
  restart(): void {
    this.session = undefined;
    const d = this.disk;
    this.replica = Replica.decode(this.replica.encode(), { replicaId: this.replica.id, keyspace: this.replica.keyspace });
    this.listen();
    this.state = new ClientSyncState({ logId: d.logId, position: d.position, pending: d.pending, transfer: d.transfer });
    if (d.transfer !== undefined) {
      // The stored chunks are copied, as a reload would read them back.
      const t = new TransferBuffer(d.transfer.kind, d.transfer.position, d.transfer.totalBytes, d.transfer.checksum);
      for (const c of d.transfer.chunks) t.append(c);
      this.state.transfer = t;
    }
  }

  open(mux: Multiplexer, options: Partial<ClientSessionOptions> = {}): ClientSyncSession {
    const s = new ClientSyncSession({ localStoreLoaded: true, ...options, channel: mux.allocateChannel(), keyspace: this.replica.keyspace, replica: this.replica, state: this.state });
    this.session = s;
    this.heldAck = 0;
    mux.add(s);
    s.start();
    return s;
  }

  drain(): number {
    const s = this.session;
    if (s === undefined) return 0;
    let n = 0;
    for (const e of s.takeEffects()) {
      n++;
      switch (e.kind) {
        case 'status':
          this.statuses.push(e.status);
          break;
        case 'deliver':
          this.replica.applyDelta(e.delta);
          this.disk.position = e.position;
          this.cursors.push({ logId: this.disk.logId, position: e.position });
          if (e.source !== 'log') this.disk.transfer = undefined;
          this.delivered.push(e);
          this.stored(s, e.seq);
          break;
        case 'chunk':
          if (e.offset === 0) this.disk.transfer = new TransferBuffer(e.transfer, e.position, e.totalBytes, e.checksum);
          this.disk.transfer!.append(e.bytes);
          this.stored(s, e.seq);
          break;
        case 'acknowledged':
          if (e.level === 'committed') {
            this.committedLsn = Math.max(this.committedLsn, e.lsn);
            this.disk.pending = this.disk.pending.filter((p) => p.lsn > e.lsn);
          }
          break;
        case 'closed':
          if (e.error !== undefined) this.errors.push(e.error);
          break;
        case 'cursor':
          this.disk.logId = e.logId;
          this.disk.position = e.position;
          this.cursors.push({ logId: e.logId, position: e.position });
          break;
      }
    }
    return n;
  }

  /** Sends the acks held back while holdAcks was set. */
  releaseAcks(): void {
    this.holdAcks = false;
    if (this.session !== undefined && this.heldAck > 0) this.session.storedUpTo(this.heldAck);
    this.heldAck = 0;
  }

  private stored(s: ClientSyncSession, seq: number): void {
    if (this.holdAcks) this.heldAck = Math.max(this.heldAck, seq);
    else s.storedUpTo(seq);
  }
}

/** Records every frame crossing a link, decoded, with its size. */
export interface Traffic {
  readonly dir: 'up' | 'down';
  readonly bytes: number;
  readonly message: SyncMessage;
}

/** One ordered connection between a client multiplexer and a server multiplexer. */
export class Link {
  readonly clientMux = new Multiplexer();
  readonly serverMux: Multiplexer;
  readonly up: Uint8Array[] = [];
  readonly down: Uint8Array[] = [];
  readonly traffic: Traffic[] = [];
  readonly serverSessions: ServerSyncSession[] = [];
  record = true;
  alive = true;
  /** Frame bytes delivered client to server and server to client. */
  upBytes = 0;
  downBytes = 0;

  constructor(servers: readonly ServerHost[]) {
    this.serverMux = new Multiplexer({
      accept: (hello) => {
        const host = servers.find((h) => h.replica.keyspace === hello.keyspace);
        if (host === undefined) return RefuseReason.UnknownKeyspace;
        const s = host.accept(hello);
        this.serverSessions.push(s);
        return s;
      },
    });
  }

  /** Moves frames the multiplexers produced onto the wire. */
  collect(): number {
    if (!this.alive) return 0;
    let n = 0;
    for (const f of this.clientMux.takeFrames()) {
      this.up.push(f);
      n++;
    }
    for (const f of this.serverMux.takeFrames()) {
      this.down.push(f);
      n++;
    }
    return n;
  }

  /** Delivers up to `max` frames in each direction, in order. */
  deliver(max = Infinity): number {
    let n = 0;
    for (let i = 0; i < max && this.up.length > 0; i++, n++) {
      const f = this.up.shift()!;
      this.upBytes += f.length;
      if (this.record) this.traffic.push({ dir: 'up', bytes: f.length, message: decodeMessage(f) });
      this.serverMux.receive(f);
    }
    for (let i = 0; i < max && this.down.length > 0; i++, n++) {
      const f = this.down.shift()!;
      this.downBytes += f.length;
      if (this.record) this.traffic.push({ dir: 'down', bytes: f.length, message: decodeMessage(f) });
      this.clientMux.receive(f);
    }
    return n;
  }

  /** The connection drops: frames in flight are lost, sessions on both ends vanish. */
  drop(servers: readonly ServerHost[]): void {
    this.alive = false;
    this.up.length = 0;
    this.down.length = 0;
    for (const h of servers) h.forget(this.serverSessions);
  }
}

/** Runs links and hosts until nothing moves; bounded by `maxRounds`. Returns the rounds used. */
export function settle(links: readonly Link[], servers: readonly ServerHost[], clients: readonly ClientHost[], maxRounds = 100_000): number {
  for (let round = 0; round < maxRounds; round++) {
    let moved = 0;
    for (const h of servers) moved += h.drain();
    for (const c of clients) moved += c.drain();
    for (const l of links) moved += l.collect();
    for (const l of links) moved += l.deliver();
    if (moved === 0) return round;
  }
  throw new Error(`did not settle in ${maxRounds} rounds`);
}

/**
 * The visible state of a replica as plain data, for convergence checks: keys, map fields
 * and set elements sorted (their iteration order follows arrival, which replicas may not share).
 */
export function stateOf(r: Replica): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of [...r.keys()].sort()) {
    const v = r.get(k);
    out[k] = r.typeOf(k) === 'set' ? [...(v as unknown[])].map((e) => JSON.stringify(e)).sort() : canonical(v);
  }
  return out;
}

function canonical(v: unknown): unknown {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) out[k] = canonical((v as Record<string, unknown>)[k]);
  return out;
}

export function messagesOf(traffic: readonly Traffic[], dir: 'up' | 'down', type?: SyncMessage['type']): SyncMessage[] {
  return traffic.filter((t) => t.dir === dir && (type === undefined || t.message.type === type)).map((t) => t.message);
}
