// client.presence: this client's ephemeral state in the keyspace (a name, a colour, a
// cursor) and the states of the others present. It travels in the sync session's
// `presence` messages (core/src/sync/presence.ts) and is never stored: not in IndexedDB,
// not at the edge or the origin. Sent at once when connected (coalesced: the latest
// state wins, at most one frame per `minIntervalMs`), re-sent after every reconnect and
// as a heartbeat every `heartbeatMs`; a peer not heard from within `timeoutMs` is
// dropped, and every peer is dropped while this client is offline.
import type { ReplicaId } from '../../core/src/clock/replica-id.ts';
import type { JsonValue } from '../../core/src/codec/json-value.ts';
import {
  decodePresenceState,
  DEFAULT_PRESENCE_HEARTBEAT_MS,
  DEFAULT_PRESENCE_TIMEOUT_MS,
  encodePresenceState,
  PresenceTable,
} from '../../core/src/sync/presence.ts';
import { MAX_PRESENCE_BYTES } from '../../core/src/sync/codec.ts';

export interface PresencePeer {
  /** That client's `presence.peerId`: random per client instance, stable while it is open. */
  readonly peerId: string;
  /** Whatever that client set: { name, color, cursor } etc. */
  readonly state: JsonValue;
}

export type PresenceListener = (peers: ReadonlyMap<string, PresencePeer>) => void;

export interface PresenceOptions {
  /** Re-send this client's state this often while connected (default 10,000 ms). */
  readonly heartbeatMs?: number;
  /** Drop a peer not heard from for this long (default 30,000 ms). */
  readonly timeoutMs?: number;
  /** At most one presence frame per this many ms; updates in between are coalesced (default 50). */
  readonly minIntervalMs?: number;
  /** Largest encoded state accepted by set() (default and ceiling 4 KiB). */
  readonly maxStateBytes?: number;
}

/** What Presence needs of the sync connection. */
export interface PresenceLink {
  /** Sends a peer's presence on the live session; false when none can carry it now. */
  sendPresence(peer: ReplicaId, state: Uint8Array | undefined): boolean;
}

export class Presence {
  private readonly me: ReplicaId;
  private readonly link: PresenceLink;
  private readonly now: () => number;
  private readonly heartbeatMs: number;
  private readonly minIntervalMs: number;
  private readonly maxStateBytes: number;
  private readonly table: PresenceTable<'remote'>;
  private readonly listeners = new Set<PresenceListener>();
  private view: ReadonlyMap<string, PresencePeer> = new Map();
  /** This client's encoded state; undefined: not present. */
  private mine: Uint8Array | undefined;
  /** Whether the last thing the live session carried of ours was a state (so null must leave). */
  private announced = false;
  /** A state change (or a reconnect) waits to be sent. */
  private dirty = false;
  /**
   * A new session has not carried anything of ours yet. Something is sent even without a
   * state (a leave of nobody): it tells the server this client speaks presence, so it is
   * shown the others (a server sends presence only to clients that sent some).
   */
  private fresh = false;
  private lastSentMs = -Infinity;
  private sendTimer: ReturnType<typeof setTimeout> | undefined;
  private heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  private closed = false;

  constructor(me: ReplicaId, link: PresenceLink, options: PresenceOptions = {}, now: () => number = () => Date.now()) {
    this.me = me;
    this.link = link;
    this.now = now;
    this.heartbeatMs = options.heartbeatMs ?? DEFAULT_PRESENCE_HEARTBEAT_MS;
    this.minIntervalMs = options.minIntervalMs ?? 50;
    this.maxStateBytes = Math.min(options.maxStateBytes ?? MAX_PRESENCE_BYTES, MAX_PRESENCE_BYTES);
    this.table = new PresenceTable(options.timeoutMs ?? DEFAULT_PRESENCE_TIMEOUT_MS);
    this.heartbeatTimer = setInterval(() => this.heartbeat(), Math.max(10, Math.min(this.heartbeatMs, this.table.timeoutMs / 2)));
  }

  /**
   * Sets this client's state (null: leave). Throws PresenceTooLargeError over the size
   * limit, InvalidArgumentError when `state` is not JSON. Sent at once when connected.
   */
  set(state: JsonValue | null): void {
    if (this.closed) return;
    this.mine = state === null ? undefined : encodePresenceState(state, this.maxStateBytes);
    this.dirty = true;
    this.schedule();
  }

  /** The others present now (never this client); empty while offline. */
  peers(): ReadonlyMap<string, PresencePeer> {
    return this.view;
  }

  /** Who this client knows to be present, itself included once announced (for a new tab). */
  snapshot(): { peer: ReplicaId; state: Uint8Array }[] {
    const out = [...this.table.all()].map((e) => ({ peer: e.peer, state: e.state }));
    if (this.announced && this.mine !== undefined) out.push({ peer: this.me, state: this.mine });
    return out;
  }

  on(listener: PresenceListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- from the sync connection --------------------------------------------------------

  /** A new session can carry presence: announce ours again. */
  sessionOpened(): void {
    this.announced = false;
    this.fresh = true;
    this.dirty = true;
    this.schedule();
  }

  /** The session ended: nobody is known to be present until the next one. */
  sessionLost(): void {
    this.announced = false;
    if (this.table.size === 0) return;
    this.table.clear();
    this.publish();
  }

  /** A peer's presence arrived (state undefined: it left). */
  received(peer: ReplicaId, state: Uint8Array | undefined): void {
    if (peer === this.me || this.closed) return;
    if (this.table.apply(peer, state, 'remote', this.now())) this.publish();
  }

  close(): void {
    this.closed = true;
    if (this.sendTimer !== undefined) clearTimeout(this.sendTimer);
    if (this.heartbeatTimer !== undefined) clearInterval(this.heartbeatTimer);
    this.sendTimer = undefined;
    this.heartbeatTimer = undefined;
    this.table.clear();
    this.view = new Map();
    this.listeners.clear();
  }

  // ---- internals -------------------------------------------------------------------

  /** Sends the pending change now, or once `minIntervalMs` has passed since the last frame. */
  private schedule(): void {
    if (!this.dirty || this.sendTimer !== undefined || this.closed) return;
    const wait = this.lastSentMs + this.minIntervalMs - this.now();
    if (wait <= 0) return this.flush();
    this.sendTimer = setTimeout(() => {
      this.sendTimer = undefined;
      this.flush();
    }, wait);
  }

  private flush(): void {
    if (!this.dirty || this.closed) return;
    if (this.mine === undefined && !this.announced && !this.fresh) {
      this.dirty = false; // nothing to take back
      return;
    }
    if (!this.link.sendPresence(this.me, this.mine)) return; // sessionOpened() retries
    this.dirty = false;
    this.fresh = false;
    this.announced = this.mine !== undefined;
    this.lastSentMs = this.now();
  }

  private heartbeat(): void {
    const now = this.now();
    if (this.table.expire(now).length > 0) this.publish();
    if (this.mine !== undefined && now - this.lastSentMs >= this.heartbeatMs) {
      this.dirty = true;
      this.schedule();
    }
  }

  private publish(): void {
    const view = new Map<string, PresencePeer>();
    for (const e of this.table.all()) {
      const peerId = String(e.peer);
      view.set(peerId, { peerId, state: decodePresenceState(e.state) });
    }
    this.view = view;
    for (const l of this.listeners) l(view);
  }
}
