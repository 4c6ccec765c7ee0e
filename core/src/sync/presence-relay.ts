// The pure part of a presence relay (an origin node, an edge replica): who is present in
// each keyspace, and which sessions must hear of a change. A relay's shell feeds it what
// arrives (from its sessions, from upstream: other origin nodes, the edge's origin link)
// and the time, forwards what it says upstream, and flushes the sessions it touched.
//
// Rules: every state and heartbeat is relayed to every other session of the keyspace (so
// each hop keeps the peer alive); a session that first speaks presence is told who is
// present; a leave counts only from the peer's owner; a peer announced by a live local
// session is not overridden by an upstream's (possibly stale) view of it.
import type { ReplicaId } from '../clock/replica-id.ts';
import { type PresenceEntry, PresenceTable } from './presence.ts';
import type { SyncSession } from './sync-session.ts';

/** Who announced a peer: a local session, or an upstream named by the shell. */
export type PresenceOwner = SyncSession | string;

export interface PresenceRelayOptions {
  /** The sessions serving `keyspace` at this relay. */
  readonly sessionsOf: (keyspace: string) => Iterable<SyncSession>;
  readonly timeoutMs?: number;
}

/** A change to tell upstream. */
export interface PresenceChange {
  readonly keyspace: string;
  readonly peer: ReplicaId;
  readonly state: Uint8Array | undefined;
}

export class PresenceRelay {
  readonly timeoutMs: number | undefined;
  private readonly sessionsOf: (keyspace: string) => Iterable<SyncSession>;
  private readonly tables = new Map<string, PresenceTable<PresenceOwner>>();
  /** Sessions sent a presence message since the last takeTouched(). */
  private touched = new Set<SyncSession>();

  constructor(options: PresenceRelayOptions) {
    this.sessionsOf = options.sessionsOf;
    this.timeoutMs = options.timeoutMs;
  }

  /** A session's presence; returns the change to send upstream, if any. */
  fromSession(keyspace: string, session: SyncSession, peer: ReplicaId, state: Uint8Array | undefined, first: boolean, nowMs: number): PresenceChange | undefined {
    const table = this.table(keyspace);
    if (first) {
      // The peer just showed it speaks presence: tell it who is here.
      for (const e of table.all()) if (e.owner !== session && e.peer !== peer && session.sendPresence(e.peer, e.state)) this.touched.add(session);
    }
    const known = table.get(peer);
    if (state === undefined && known?.owner !== session) return undefined;
    table.apply(peer, state, session, nowMs);
    this.toSessions(keyspace, peer, state, session);
    return { keyspace, peer, state };
  }

  /** An upstream's presence (`owner` names the upstream, e.g. `origin` or `node:n2`). */
  fromUpstream(keyspace: string, owner: string, peer: ReplicaId, state: Uint8Array | undefined, nowMs: number): void {
    const table = this.table(keyspace);
    const known = table.get(peer);
    if (known !== undefined && typeof known.owner !== 'string' && !known.owner.closed) return;
    if (state === undefined && known?.owner !== owner) return;
    table.apply(peer, state, owner, nowMs);
    this.toSessions(keyspace, peer, state, undefined);
  }

  /** A session ended: the peers it announced leave; returns the leaves for upstream. */
  sessionGone(keyspace: string, session: SyncSession): PresenceChange[] {
    const table = this.tables.get(keyspace);
    if (table === undefined) return [];
    const out: PresenceChange[] = [];
    for (const peer of table.removeOwner(session)) {
      this.toSessions(keyspace, peer, undefined, session);
      out.push({ keyspace, peer, state: undefined });
    }
    return out;
  }

  /** An upstream went away: the peers it announced leave (local sessions are told). */
  upstreamGone(owner: string): void {
    for (const [ks, table] of this.tables) for (const peer of table.removeOwner(owner)) this.toSessions(ks, peer, undefined, undefined);
  }

  /** Drops peers not heard from within the timeout; returns how many. */
  expire(nowMs: number): number {
    let n = 0;
    for (const [ks, table] of this.tables) {
      for (const peer of table.expire(nowMs)) {
        n++;
        this.toSessions(ks, peer, undefined, undefined);
      }
      if (table.size === 0) this.tables.delete(ks);
    }
    return n;
  }

  /** The peers present in `keyspace` (owned by anyone). */
  entries(keyspace: string): PresenceEntry<PresenceOwner>[] {
    return [...(this.tables.get(keyspace)?.all() ?? [])];
  }

  /** Peers announced by local sessions (what to re-announce to a new upstream). */
  localEntries(keyspace: string): PresenceEntry<PresenceOwner>[] {
    return this.entries(keyspace).filter((e) => typeof e.owner !== 'string');
  }

  /** The sessions that were sent something since the last call: flush them. */
  takeTouched(): Set<SyncSession> {
    const out = this.touched;
    this.touched = new Set();
    return out;
  }

  clear(): void {
    this.tables.clear();
  }

  private table(keyspace: string): PresenceTable<PresenceOwner> {
    let t = this.tables.get(keyspace);
    if (t === undefined) {
      t = new PresenceTable(this.timeoutMs);
      this.tables.set(keyspace, t);
    }
    return t;
  }

  private toSessions(keyspace: string, peer: ReplicaId, state: Uint8Array | undefined, except: SyncSession | undefined): void {
    for (const s of this.sessionsOf(keyspace)) if (s !== except && s.sendPresence(peer, state)) this.touched.add(s);
  }
}
