// Tabs of one origin sharing one IndexedDB keyspace: exactly one tab (the owner) holds the
// sync socket and the pending-change log, elected with the Web Locks API (an exclusive lock,
// released when the tab closes); the others (followers) talk to it over BroadcastChannel.
//
// - A follower's local change goes to the owner as `delta`; it stays pending in the
//   follower (counted as unacknowledged) until the owner answers `stored` (in its log).
// - The owner broadcasts every change it applies (`change`: its own once stored, followers',
//   and the origin's) and its status (`status`, with its unacknowledged count and the URL
//   it is connected to, which followers use for strong operations).
// - When the owner tab closes its lock is released; the next tab in the lock's queue becomes
//   the owner, reloads the log from storage (the old owner's stored changes included), adds
//   its own unconfirmed changes, starts syncing and says `owner`: followers then resend every
//   change still unconfirmed (joins are idempotent, so a change stored twice is harmless).
// - A follower writes with its own replica id, never the stored one (which the owner's
//   writes use), so two tabs never mint the same dot.
// - Presence (tab-presence.ts): a follower sends its own (`presence`, as its peer id) to
//   the owner, which carries it on its session and relays every presence it knows to the
//   followers (`peer`; `peers`: a session opened, here is who is present; `peers-lost`).
//   A closing follower says `bye`.
// Messages are plain objects (structured clone); a malformed one is ignored.
import { isReplicaId, type ReplicaId } from '../../core/src/clock/replica-id.ts';

export interface LockManagerLike {
  request(name: string, options: { mode?: 'exclusive'; ifAvailable?: boolean }, callback: (lock: unknown) => Promise<void>): Promise<unknown>;
  request(name: string, callback: (lock: unknown) => Promise<void>): Promise<unknown>;
}

export interface BroadcastChannelLike {
  postMessage(message: unknown): void;
  close(): void;
  onmessage: ((ev: { data: unknown }) => void) | null;
}

/** What tab coordination needs from the platform (browsers: navigator.locks, BroadcastChannel). */
export interface TabEnvironment {
  readonly locks: LockManagerLike;
  readonly BroadcastChannel: new (name: string) => BroadcastChannelLike;
}

/** The platform's, when it has both APIs. */
export function platformTabEnvironment(): TabEnvironment | undefined {
  const g = globalThis as { navigator?: { locks?: LockManagerLike }; BroadcastChannel?: TabEnvironment['BroadcastChannel'] };
  const locks = g.navigator?.locks;
  if (locks === undefined || g.BroadcastChannel === undefined) return undefined;
  return { locks, BroadcastChannel: g.BroadcastChannel };
}

const STATUSES = new Set<unknown>(['offline', 'connecting', 'syncing', 'synced']);

export const TabRole = { Owner: 'owner', Follower: 'follower' } as const;
export type TabRole = (typeof TabRole)[keyof typeof TabRole];

export interface OwnerStatus {
  readonly status: string;
  readonly unacknowledged: number;
  readonly url: string | undefined;
}

/** The client's side of coordination. */
export interface TabHooks {
  /**
   * This tab just got the lock: load the log from storage, set `role` to owner, then store
   * what `takeUnconfirmed()` returns (called after, so no follower write slips between) and
   * start syncing.
   */
  becomeOwner(takeUnconfirmed: () => Uint8Array[]): Promise<void>;
  /** Owner: a follower's change; resolves once it is applied and stored in the log. */
  storeFromFollower(bytes: Uint8Array): Promise<void>;
  /** Follower: a change the owner applied. */
  applyFromOwner(bytes: Uint8Array): void;
  /** Follower: the owner's status, or the follower's own count changed. */
  followerChanged(): void;
  /** Presence across tabs (tab-presence.ts). */
  readonly presence: TabPresenceHooks;
}

/** One peer present, as tabs pass it around. */
export interface PresentPeer {
  readonly peer: ReplicaId;
  readonly state: Uint8Array;
}

export interface TabPresenceHooks {
  /** Owner: a follower tab's presence (state undefined: it left). */
  fromFollower(tab: string, peer: ReplicaId, state: Uint8Array | undefined): void;
  /** Owner: a follower tab started (it must be told who is present). */
  followerJoined(tab: string): void;
  /** Owner: a follower tab closed. */
  followerGone(tab: string): void;
  /** Follower: the owner's session carries presence now; these are present. */
  opened(peers: readonly PresentPeer[]): void;
  /** Follower: a peer's presence the owner relays (state undefined: it left). */
  relayed(peer: ReplicaId, state: Uint8Array | undefined): void;
  /** Follower: the owner's session ended, or another tab became the owner. */
  lost(): void;
}

type Message =
  | { t: 'delta'; tab: string; seq: number; bytes: Uint8Array }
  | { t: 'stored'; tab: string; seq: number }
  | { t: 'change'; bytes: Uint8Array }
  | { t: 'status'; status: string; unacknowledged: number; url: string | null }
  | { t: 'owner' }
  | { t: 'hello'; tab: string }
  | { t: 'bye'; tab: string }
  | { t: 'presence'; tab: string; peer: ReplicaId; state: Uint8Array | null }
  | { t: 'peer'; peer: ReplicaId; state: Uint8Array | null }
  | { t: 'peers'; to: string | null; peers: PresentPeer[] }
  | { t: 'peers-lost' };

export class TabCoordinator {
  role: TabRole;
  /** The owner's last status (followers). */
  ownerStatus: OwnerStatus = { status: 'offline', unacknowledged: 0, url: undefined };
  private readonly tabId: string;
  private readonly channel: BroadcastChannelLike;
  private hooks: TabHooks | undefined;
  /** Follower: changes sent to the owner and not yet confirmed stored, by seq. */
  private readonly unconfirmed = new Map<number, Uint8Array>();
  /** Resolvers of the promises sendDelta returned, by seq. */
  private readonly waiting = new Map<number, () => void>();
  private nextSeq = 1;
  private closed = false;
  private markAttached: () => void = () => {};
  /** Settles once this tab's held lock is released (set while it holds the lock). */
  private lockReturned: Promise<unknown> | undefined;

  /** Resolves once attach() ran: a takeover waits for the client to exist. */
  private readonly attached = new Promise<void>((r) => {
    this.markAttached = r;
  });

  private constructor(
    env: TabEnvironment,
    name: string,
    role: TabRole,
    tabId: string,
    /** Resolving it releases the lock (held for as long as the callback's promise is pending). */
    private readonly release: () => void,
    private readonly released: Promise<void>,
  ) {
    this.role = role;
    this.tabId = tabId;
    this.channel = new env.BroadcastChannel(name);
    this.channel.onmessage = (ev) => this.receive(ev.data);
  }

  /** Takes the lock `name` if it is free (owner), else queues for it (follower until then). */
  static async start(env: TabEnvironment, name: string, tabId: string): Promise<TabCoordinator> {
    let release: () => void = () => {};
    const released = new Promise<void>((r) => {
      release = r;
    });
    let held: Promise<unknown> = Promise.resolve();
    const owner = await new Promise<boolean>((resolve) => {
      held = env.locks.request(name, { mode: 'exclusive', ifAvailable: true }, async (lock) => {
        if (lock === null) return resolve(false);
        resolve(true);
        await released;
      });
    });
    const s = new TabCoordinator(env, name, owner ? TabRole.Owner : TabRole.Follower, tabId, release, released);
    if (owner) s.lockReturned = held;
    else {
      const queued = env.locks.request(name, { mode: 'exclusive' }, async () => {
        if (s.closed) return;
        s.lockReturned = queued;
        await s.takeOver();
        await s.released;
      });
    }
    return s;
  }

  /** Starts handling messages (the client is built by now). */
  attach(hooks: TabHooks): void {
    this.hooks = hooks;
    this.markAttached();
    if (this.role === TabRole.Follower) this.post({ t: 'hello', tab: this.tabId });
  }

  /** Follower: changes not yet confirmed stored by the owner. */
  get pending(): number {
    return this.unconfirmed.size;
  }

  /** Follower: sends a local change to the owner (kept until it says stored); resolves then. */
  sendDelta(bytes: Uint8Array): Promise<void> {
    const seq = this.nextSeq++;
    this.unconfirmed.set(seq, bytes);
    const stored = new Promise<void>((resolve) => this.waiting.set(seq, resolve));
    this.post({ t: 'delta', tab: this.tabId, seq, bytes });
    return stored;
  }

  /** Owner: a change every other tab should apply. */
  broadcastChange(bytes: Uint8Array): void {
    if (this.role === TabRole.Owner) this.post({ t: 'change', bytes });
  }

  broadcastStatus(s: OwnerStatus): void {
    if (this.role === TabRole.Owner) this.post({ t: 'status', status: s.status, unacknowledged: s.unacknowledged, url: s.url ?? null });
  }

  /** Follower: this tab's presence, for the owner to carry (state undefined: leave). */
  sendPresence(peer: ReplicaId, state: Uint8Array | undefined): void {
    if (this.role === TabRole.Follower) this.post({ t: 'presence', tab: this.tabId, peer, state: state ?? null });
  }

  /** Owner: a peer's presence for every follower (state undefined: it left). */
  broadcastPeer(peer: ReplicaId, state: Uint8Array | undefined): void {
    if (this.role === TabRole.Owner) this.post({ t: 'peer', peer, state: state ?? null });
  }

  /** Owner: a session carries presence now and these are present (`to`: one tab, else all). */
  broadcastPeers(to: string | undefined, peers: readonly PresentPeer[]): void {
    if (this.role === TabRole.Owner) this.post({ t: 'peers', to: to ?? null, peers: [...peers] });
  }

  /** Owner: no session carries presence any more. */
  broadcastPresenceLost(): void {
    if (this.role === TabRole.Owner) this.post({ t: 'peers-lost' });
  }

  /**
   * Leaves the channel at once and releases the lock (the next tab takes over) once
   * `writesDone` settles, so the next owner loads a log with every write of this one.
   */
  /**
   * Leaves: the lock is released once `writesDone` settles. Resolves when an owner's lock is
   * back with the lock manager, so a client opened next in this page takes it at once
   * instead of starting as a follower of the one that just closed.
   */
  async close(writesDone: Promise<unknown> = Promise.resolve()): Promise<void> {
    if (this.closed) return;
    if (this.role === TabRole.Follower) this.post({ t: 'bye', tab: this.tabId });
    this.closed = true;
    this.channel.onmessage = null;
    this.channel.close();
    void writesDone.finally(() => this.release());
    await writesDone.catch(() => undefined);
    await this.lockReturned?.catch(() => undefined);
  }

  private async takeOver(): Promise<void> {
    await this.attached;
    if (this.closed) return;
    await this.hooks!.becomeOwner(() => {
      const list = [...this.unconfirmed.values()];
      this.unconfirmed.clear();
      return list;
    });
    this.role = TabRole.Owner;
    for (const resolve of this.waiting.values()) resolve();
    this.waiting.clear();
    this.post({ t: 'owner' });
  }

  private receive(data: unknown): void {
    if (this.closed || this.hooks === undefined || data === null || typeof data !== 'object') return;
    const m = data as Message;
    const hooks = this.hooks;
    if (this.role === TabRole.Owner) {
      if (m.t === 'delta' && m.bytes instanceof Uint8Array && typeof m.tab === 'string') {
        const { tab, seq } = m;
        hooks.storeFromFollower(m.bytes).then(
          () => this.post({ t: 'stored', tab, seq }),
          () => {}, // not stored: the follower keeps it and resends to the next owner
        );
      } else if (m.t === 'hello' && typeof m.tab === 'string') {
        hooks.followerChanged(); // the client answers with its status
        hooks.presence.followerJoined(m.tab);
      } else if (m.t === 'bye' && typeof m.tab === 'string') {
        hooks.presence.followerGone(m.tab);
      } else if (m.t === 'presence' && typeof m.tab === 'string' && isReplicaId(m.peer) && isState(m.state)) {
        hooks.presence.fromFollower(m.tab, m.peer, m.state ?? undefined);
      }
      return;
    }
    switch (m.t) {
      case 'change':
        if (m.bytes instanceof Uint8Array) hooks.applyFromOwner(m.bytes);
        return;
      case 'stored':
        if (m.tab === this.tabId && this.unconfirmed.delete(m.seq)) {
          this.waiting.get(m.seq)?.();
          this.waiting.delete(m.seq);
          hooks.followerChanged();
        }
        return;
      case 'status':
        if (!STATUSES.has(m.status) || !Number.isSafeInteger(m.unacknowledged) || (m.url !== null && typeof m.url !== 'string')) return;
        this.ownerStatus = { status: m.status, unacknowledged: m.unacknowledged, url: m.url ?? undefined };
        hooks.followerChanged();
        return;
      case 'owner':
        for (const [seq, bytes] of this.unconfirmed) this.post({ t: 'delta', tab: this.tabId, seq, bytes });
        return;
      case 'peer':
        if (isReplicaId(m.peer) && isState(m.state)) hooks.presence.relayed(m.peer, m.state ?? undefined);
        return;
      case 'peers':
        if ((m.to === null || m.to === this.tabId) && Array.isArray(m.peers) && m.peers.every((p) => isReplicaId(p?.peer) && p.state instanceof Uint8Array)) hooks.presence.opened(m.peers);
        return;
      case 'peers-lost':
        hooks.presence.lost();
        return;
    }
  }

  private post(m: Message): void {
    if (!this.closed) this.channel.postMessage(m);
  }
}

function isState(v: unknown): v is Uint8Array | null {
  return v === null || v instanceof Uint8Array;
}
