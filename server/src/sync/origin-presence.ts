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
import { decodePresenceState, DEFAULT_PRESENCE_TIMEOUT_MS } from '../../../core/src/sync/presence.ts';
import { PresenceRelay } from '../../../core/src/sync/presence-relay.ts';
import type { ServerSyncSession } from '../../../core/src/sync/server-session.ts';

const CLUSTER_FRAME_VERSION = 1;

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
  private readonly relayCore: PresenceRelay;
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
    this.relayCore = new PresenceRelay({ sessionsOf: options.sessionsOf, timeoutMs: this.timeoutMs });
    this.relay = undefined;
    this.timer = setInterval(() => this.expire(), Math.max(20, Math.floor(this.timeoutMs / 4)));
    this.timer.unref?.();
  }

  /** A client's presence (its own, or peers relayed by an edge) on `session`. */
  fromSession(session: ServerSyncSession, peer: ReplicaId, state: Uint8Array | undefined, first: boolean): void {
    this.stats.received++;
    const change = this.relayCore.fromSession(session.source.keyspace, session, peer, state, first, this.now());
    if (change !== undefined) this.toNodes(change);
    this.schedule();
  }

  /** A presence frame from another origin node. Throws DecodeError on a bad frame. */
  fromNode(node: string, frame: Uint8Array): void {
    const p = decodeClusterPresence(frame);
    this.stats.fromNodes++;
    this.relayCore.fromUpstream(p.keyspace, `node:${node}`, p.peer, p.state, this.now());
    this.schedule();
  }

  /** A session ended: the peers it announced leave, here and on the other nodes. */
  sessionGone(session: ServerSyncSession): void {
    for (const change of this.relayCore.sessionGone(session.source.keyspace, session)) this.toNodes(change);
    this.schedule();
  }

  /** Who is present in `keyspace` on this node (tests, metrics). */
  peersOf(keyspace: string): ReplicaId[] {
    return this.relayCore.entries(keyspace).map((e) => e.peer);
  }

  /** Drops peers not heard from within the timeout (run by the timer; each node on its own). */
  expire(): void {
    this.stats.expired += this.relayCore.expire(this.now());
    this.schedule();
  }

  close(): void {
    clearInterval(this.timer);
    this.relayCore.clear();
  }

  private toNodes(change: ClusterPresence): void {
    if (this.relay === undefined) return;
    this.relay(encodeClusterPresence(change));
    this.stats.relayedToNodes++;
  }

  /** One flush per turn for every session a presence message went to. */
  private schedule(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      const sessions = this.relayCore.takeTouched() as Set<ServerSyncSession>;
      if (sessions.size > 0) this.o.flush(sessions);
    });
  }
}
