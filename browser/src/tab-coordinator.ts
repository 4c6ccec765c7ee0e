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
// Messages are plain objects (structured clone); a malformed one is ignored.

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
}

type Message =
  | { t: 'delta'; tab: string; seq: number; bytes: Uint8Array }
  | { t: 'stored'; tab: string; seq: number }
  | { t: 'change'; bytes: Uint8Array }
  | { t: 'status'; status: string; unacknowledged: number; url: string | null }
  | { t: 'owner' }
  | { t: 'hello' };

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
    const owner = await new Promise<boolean>((resolve) => {
      void env.locks.request(name, { mode: 'exclusive', ifAvailable: true }, async (lock) => {
        if (lock === null) return resolve(false);
        resolve(true);
        await released;
      });
    });
    const s = new TabCoordinator(env, name, owner ? TabRole.Owner : TabRole.Follower, tabId, release, released);
    if (!owner) {
      void env.locks.request(name, { mode: 'exclusive' }, async () => {
        if (s.closed) return;
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
    if (this.role === TabRole.Follower) this.post({ t: 'hello' });
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

  /**
   * Leaves the channel at once and releases the lock (the next tab takes over) once
   * `writesDone` settles, so the next owner loads a log with every write of this one.
   */
  close(writesDone: Promise<unknown> = Promise.resolve()): void {
    if (this.closed) return;
    this.closed = true;
    this.channel.onmessage = null;
    this.channel.close();
    void writesDone.finally(() => this.release());
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
      } else if (m.t === 'hello') {
        hooks.followerChanged(); // the client answers with its status
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
    }
  }

  private post(m: Message): void {
    if (!this.closed) this.channel.postMessage(m);
  }
}
