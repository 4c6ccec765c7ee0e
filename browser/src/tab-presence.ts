// Presence across the tabs of one keyspace (tab-coordinator.ts): only the owner tab has a
// sync session, and a session may carry presence for several peers, so the owner speaks
// for every tab. A follower sends its own state, leaves and heartbeats to the owner (as its
// own peer id); the owner sends them on its session as that peer, relays to the
// followers everything present (what the session brings, its own state, the other tabs'),
// and sends a leave for a follower that closes (`bye`) or stops heartbeating. Without a
// session (owner offline) no tab sees anybody. After a takeover the new owner's session
// starts empty and every follower re-announces itself through it when it opens.
// Without tabs this is a pass-through between Presence and the sync connection.
import type { ReplicaId } from '../../core/src/clock/replica-id.ts';
import { DEFAULT_PRESENCE_HEARTBEAT_MS, DEFAULT_PRESENCE_TIMEOUT_MS } from '../../core/src/sync/presence.ts';
import type { PresenceApi } from './client-options.ts';
import { Presence, type PresenceLink, type PresenceOptions } from './presence.ts';
import { type PresentPeer, type TabCoordinator, type TabPresenceHooks, TabRole } from './tab-coordinator.ts';

export class TabPresence implements PresenceLink, TabPresenceHooks {
  readonly presence: Presence;
  private readonly me: ReplicaId;
  private readonly session: PresenceLink;
  private readonly tabs: TabCoordinator | undefined;
  private readonly now: () => number;
  private readonly timeoutMs: number;
  /** Owner: its session carries presence. Follower: the owner said its session does. */
  private open = false;
  /** Owner: the follower tabs' peers it carries on the session, with when each was last heard. */
  private readonly tabPeers = new Map<ReplicaId, { tab: string; seenMs: number }>();
  private readonly timer: ReturnType<typeof setInterval> | undefined;

  constructor(me: ReplicaId, session: PresenceLink, tabs: TabCoordinator | undefined, options: PresenceOptions = {}, now: () => number = () => Date.now()) {
    this.me = me;
    this.session = session;
    this.tabs = tabs;
    this.now = now;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_PRESENCE_TIMEOUT_MS;
    this.presence = new Presence(me, this, options, now);
    if (tabs !== undefined) {
      const heartbeatMs = options.heartbeatMs ?? DEFAULT_PRESENCE_HEARTBEAT_MS;
      this.timer = setInterval(() => this.expireTabs(), Math.max(10, Math.min(heartbeatMs, this.timeoutMs / 2)));
    }
  }

  /** `client.presence`: `checkOpen` throws once the client is closed. */
  api(checkOpen: () => void): PresenceApi {
    return {
      peerId: String(this.me),
      set: (state) => {
        checkOpen();
        this.presence.set(state);
      },
      peers: () => this.presence.peers(),
    };
  }

  // ---- PresenceLink: where this tab's own presence goes ---------------------------------

  sendPresence(peer: ReplicaId, state: Uint8Array | undefined): boolean {
    const tabs = this.tabs;
    if (tabs === undefined) return this.session.sendPresence(peer, state);
    if (tabs.role === TabRole.Follower) {
      if (!this.open) return false; // Presence re-announces when the owner's session opens
      tabs.sendPresence(peer, state);
      return true;
    }
    if (!this.session.sendPresence(peer, state)) return false;
    tabs.broadcastPeer(peer, state);
    return true;
  }

  // ---- from the owner's sync connection ------------------------------------------------

  sessionOpened(): void {
    if (this.tabs === undefined) return this.presence.sessionOpened();
    if (this.open) return;
    this.open = true;
    // Nobody is known on a new session yet; the followers re-announce themselves on this.
    this.tabs.broadcastPeers(undefined, []);
    this.presence.sessionOpened();
  }

  sessionLost(): void {
    this.open = false;
    this.tabPeers.clear(); // they re-announce when the next session opens
    this.tabs?.broadcastPresenceLost();
    this.presence.sessionLost();
  }

  /** A peer's presence from the session. */
  received(peer: ReplicaId, state: Uint8Array | undefined): void {
    this.presence.received(peer, state);
    this.tabs?.broadcastPeer(peer, state);
  }

  // ---- TabPresenceHooks: owner side ---------------------------------------------------

  fromFollower(tab: string, peer: ReplicaId, state: Uint8Array | undefined): void {
    if (!this.open || peer === this.me) return; // the follower re-sends when a session opens
    if (state === undefined) {
      if (this.tabPeers.get(peer)?.tab !== tab) return;
      this.tabPeers.delete(peer);
    } else {
      this.tabPeers.set(peer, { tab, seenMs: this.now() });
    }
    if (!this.session.sendPresence(peer, state)) return;
    this.tabs!.broadcastPeer(peer, state);
    this.presence.received(peer, state);
  }

  followerJoined(tab: string): void {
    if (this.open) this.tabs!.broadcastPeers(tab, this.presence.snapshot());
  }

  followerGone(tab: string): void {
    for (const [peer, e] of [...this.tabPeers]) if (e.tab === tab) this.fromFollower(tab, peer, undefined);
  }

  // ---- TabPresenceHooks: follower side ------------------------------------------------

  opened(peers: readonly PresentPeer[]): void {
    this.presence.sessionLost(); // a new session of the owner's: start from what it says
    this.open = true;
    this.presence.sessionOpened();
    for (const p of peers) this.presence.received(p.peer, p.state);
  }

  relayed(peer: ReplicaId, state: Uint8Array | undefined): void {
    if (this.open) this.presence.received(peer, state);
  }

  lost(): void {
    this.open = false;
    this.presence.sessionLost();
  }

  /**
   * This tab took over (its role is owner now): nothing is present until its own session
   * opens, for it and for the followers (told before that session can open, so the old
   * owner's view, which it may not have taken back if its tab crashed, goes first).
   */
  becameOwner(): void {
    this.lost();
    this.tabPeers.clear();
    this.tabs?.broadcastPresenceLost();
  }

  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.presence.close();
  }

  /** Owner: a follower tab not heard from within the timeout (crashed) leaves. */
  private expireTabs(): void {
    const now = this.now();
    for (const [peer, e] of [...this.tabPeers]) if (now - e.seenMs >= this.timeoutMs) this.fromFollower(e.tab, peer, undefined);
  }
}
