// Presence at an origin node: relays each client's ephemeral state to every other session
// of the same keyspace on this node and, through the cluster's peer links (an ephemeral
// frame, never a Raft entry), to the other origin nodes, which relay it to their sessions.
// Nothing here is stored. A peer leaves when it says so, when the session that announced
// it ends (the leave goes to the other nodes too), or when it is not heard from within the
// timeout (a crashed client, or a node that went away: each node expires on its own).
//
//   cluster frame = u8 version (1) | string keyspace | varuint peer | u8 present
//                 | (present = 1) bytes state            (state: core/src/sync/presence.ts)
import type { ReplicaId } from '../../../core/src/clock/replica-id.ts';
import { Reader } from '../../../core/src/codec/reader.ts';
import { Writer } from '../../../core/src/codec/writer.ts';
import { ErrorCode } from '../../../core/src/errors.ts';
import { MAX_KEYSPACE_BYTES, MAX_PRESENCE_BYTES } from '../../../core/src/sync/codec.ts';
import { decodePresenceState, DEFAULT_PRESENCE_TIMEOUT_MS, PresenceTable } from '../../../core/src/sync/presence.ts';
import type { ServerSyncSession } from '../../../core/src/sync/server-session.ts';

const CLUSTER_FRAME_VERSION = 1;

/** Who announced a peer here: a local session, or another node (`node:<name>`). */
export type PresenceOwner = ServerSyncSession | `node:${string}`;

export interface ClusterPresence {
  readonly keyspace: string;
  readonly peer: ReplicaId;
  readonly state: Uint8Array | undefined;
}

export function encodeClusterPresence(p: ClusterPresence): Uint8Array {
  const w = new Writer(32 + (p.state?.length ?? 0));
  w.u8(CLUSTER_FRAME_VERSION);
  w.string(p.keyspace);
  w.varuint(p.peer);
  if (p.state === undefined) w.u8(0);
  else {
    w.u8(1);
    w.bytes(p.state);
  }
  return w.finish();
}

/** Decodes and validates a cluster presence frame; throws DecodeError. */
export function decodeClusterPresence(bytes: Uint8Array): ClusterPresence {
  const r = new Reader(bytes);
  const version = r.u8();
  if (version !== CLUSTER_FRAME_VERSION) r.fail(ErrorCode.DecodeVersion, `cluster presence frame version ${version}`);
  const keyspace = r.string(MAX_KEYSPACE_BYTES);
  const peer = r.bounded(1, Number.MAX_SAFE_INTEGER, 'replica id') as ReplicaId;
  const flag = r.u8();
  if (flag > 1) r.fail(ErrorCode.DecodeInvalid, `presence flag ${flag}`);
  const state = flag === 1 ? r.bytes(MAX_PRESENCE_BYTES) : undefined;
  r.end();
  if (state !== undefined) decodePresenceState(state);
  return { keyspace, peer, state };
}

export interface OriginPresenceOptions {
  /** The sessions serving `keyspace` on this node. */
  readonly sessionsOf: (keyspace: string) => Iterable<ServerSyncSession>;
  /** Sends what the sessions queued (called once per turn with the sessions touched). */
  readonly flush: (sessions: ReadonlySet<ServerSyncSession>) => void;
  readonly timeoutMs?: number;
  readonly now?: () => number;
}

export class OriginPresence {
  private readonly o: OriginPresenceOptions;
  private readonly now: () => number;
  readonly timeoutMs: number;
  private readonly tables = new Map<string, PresenceTable<PresenceOwner>>();
  private readonly touched = new Set<ServerSyncSession>();
  private flushScheduled = false;
  private readonly timer: ReturnType<typeof setInterval>;
  /** Sends a frame to every other origin node (set by the shell when it is a cluster member). */
  relay: ((frame: Uint8Array) => void) | undefined;
  /** Counters for metrics and tests. */
  readonly stats = { received: 0, relayedToNodes: 0, fromNodes: 0, expired: 0 };

  constructor(options: OriginPresenceOptions) {
    this.o = options;
    this.now = options.now ?? (() => Date.now());
    this.timeoutMs = options.timeoutMs ?? DEFAULT_PRESENCE_TIMEOUT_MS;
    this.relay = undefined;
    this.timer = setInterval(() => this.expire(), Math.max(20, Math.floor(this.timeoutMs / 4)));
    this.timer.unref?.();
  }

  /** A client's presence (its own, or peers relayed by an edge) on `session`. */
  fromSession(session: ServerSyncSession, peer: ReplicaId, state: Uint8Array | undefined, first: boolean): void {
    this.stats.received++;
    const ks = session.source.keyspace;
    const table = this.table(ks);
    if (first) {
      // The client just showed it speaks presence: tell it who is here.
      for (const e of table.all()) if (e.owner !== session && e.peer !== peer) session.sendPresence(e.peer, e.state);
      this.touched.add(session);
    }
    const known = table.get(peer);
    if (state === undefined && (known === undefined || known.owner !== session)) return;
    table.apply(peer, state, session, this.now());
    // Heartbeats are relayed too: they keep the peer alive at every other hop.
    this.toSessions(ks, peer, state, session);
    if (this.relay !== undefined) {
      this.relay(encodeClusterPresence({ keyspace: ks, peer, state }));
      this.stats.relayedToNodes++;
    }
    this.schedule();
  }

  /** A presence frame from another origin node. Throws DecodeError on a bad frame. */
  fromNode(node: string, frame: Uint8Array): void {
    const p = decodeClusterPresence(frame);
    this.stats.fromNodes++;
    const table = this.table(p.keyspace);
    const owner: PresenceOwner = `node:${node}`;
    const known = table.get(p.peer);
    // A peer connected here wins over another node's stale view of it.
    if (known !== undefined && typeof known.owner !== 'string' && !known.owner.closed) return;
    if (p.state === undefined && (known === undefined || known.owner !== owner)) return;
    table.apply(p.peer, p.state, owner, this.now());
    this.toSessions(p.keyspace, p.peer, p.state, undefined);
    this.schedule();
  }

  /** A session ended: the peers it announced leave, here and on the other nodes. */
  sessionGone(session: ServerSyncSession): void {
    const ks = session.source.keyspace;
    const table = this.tables.get(ks);
    if (table === undefined) return;
    for (const peer of table.removeOwner(session)) {
      this.toSessions(ks, peer, undefined, session);
      this.relay?.(encodeClusterPresence({ keyspace: ks, peer, state: undefined }));
    }
    this.schedule();
  }

  /** Who is present in `keyspace` on this node (tests, metrics). */
  peersOf(keyspace: string): ReplicaId[] {
    return [...(this.tables.get(keyspace)?.all() ?? [])].map((e) => e.peer);
  }

  /** Drops peers not heard from within the timeout (run by the timer). */
  expire(): void {
    const now = this.now();
    for (const [ks, table] of this.tables) {
      for (const peer of table.expire(now)) {
        this.stats.expired++;
        this.toSessions(ks, peer, undefined, undefined);
      }
      if (table.size === 0) this.tables.delete(ks);
    }
    this.schedule();
  }

  close(): void {
    clearInterval(this.timer);
    this.tables.clear();
  }

  private table(ks: string): PresenceTable<PresenceOwner> {
    let t = this.tables.get(ks);
    if (t === undefined) {
      t = new PresenceTable(this.timeoutMs);
      this.tables.set(ks, t);
    }
    return t;
  }

  private toSessions(ks: string, peer: ReplicaId, state: Uint8Array | undefined, except: ServerSyncSession | undefined): void {
    for (const s of this.o.sessionsOf(ks)) {
      if (s === except || s.peer === peer) continue;
      if (s.sendPresence(peer, state)) this.touched.add(s);
    }
  }

  /** One flush per turn for every session a presence message went to. */
  private schedule(): void {
    if (this.flushScheduled || this.touched.size === 0) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      const sessions = new Set(this.touched);
      this.touched.clear();
      this.o.flush(sessions);
    });
  }
}
