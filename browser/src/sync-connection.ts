// The client's sync shell: one socket at a time (to one of several origin URLs, in turn,
// shared with the page's other clients of that URL: shared-socket.ts), one multiplexer and
// one ClientSyncSession for the keyspace on its own channel; the session's
// effects are carried out against the replica and the LocalStore, and a lost connection
// is retried with exponential backoff and jitter. The ClientSyncState outlives sessions:
// a reconnect resumes from the stored cursor and resends only unacknowledged changes.
import type { ReplicaId } from '../../core/src/clock/replica-id.ts';
import type { Delta } from '../../core/src/crdt/delta.ts';
import type { MapStore } from '../../core/src/crdt/map-store.ts';
import type { ChangeEvent, Replica } from '../../core/src/doc/replica.ts';
import type { ClientSyncState } from '../../core/src/sync/client-state.ts';
import { ClientSyncSession } from '../../core/src/sync/client-session.ts';
import { Multiplexer } from '../../core/src/sync/multiplexer.ts';
import type { Backoff } from './backoff.ts';
import { reportError } from './client-util.ts';
import type { LocalStore } from './local-store.ts';
import { joinSocket, type SocketLease, type SocketMember } from './shared-socket.ts';
import type { WebSocketConstructor } from './transport.ts';

export const ClientStatus = { Offline: 'offline', Connecting: 'connecting', Syncing: 'syncing', Synced: 'synced' } as const;
export type ClientStatus = (typeof ClientStatus)[keyof typeof ClientStatus];

export interface SyncConnectionOptions {
  readonly urls: readonly string[];
  readonly keyspace: string;
  readonly token: string;
  readonly replica: Replica;
  readonly state: ClientSyncState;
  readonly store: LocalStore;
  readonly WebSocket: WebSocketConstructor;
  readonly backoff: Backoff;
  /** Share the page's socket to the URL with other keyspaces (default true). */
  readonly shareSocket?: boolean;
  /** Handshake timeout in ms (default 10,000). */
  readonly handshakeTimeoutMs?: number;
  readonly onStatus: (status: ClientStatus) => void;
  /** Local changes up to this lsn are committed by the origin (and dropped from storage). */
  readonly onCommitted: (lsn: number) => void;
  /** A remote delta was applied (`changed`: the keys it changed). */
  readonly onDelivered?: (delta: Delta<MapStore>, changed: readonly ChangeEvent[]) => void;
  /** A session or socket error, for diagnostics. */
  readonly onError?: (error: Error) => void;
  /** Presence (presence.ts): a session can carry it / a peer's state arrived / the session ended. */
  readonly onPresenceOpen?: () => void;
  readonly onPresence?: (peer: ReplicaId, state: Uint8Array | undefined) => void;
  readonly onPresenceLost?: () => void;
}

/** What an origin that predates presence answers a presence frame with (core codec's words). */
const PRESENCE_UNKNOWN = 'unknown sync message type 10';

const TICK_MS = 250;

export class SyncConnection {
  private readonly o: SyncConnectionOptions;
  /** This client's place on the shared socket to the current URL (shared-socket.ts). */
  private lease: SocketLease | undefined;
  private mux: Multiplexer | undefined;
  private session: ClientSyncSession | undefined;
  private urlIndex = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private tickTimer: ReturnType<typeof setInterval> | undefined;
  private saveTimer: ReturnType<typeof setTimeout> | undefined;
  /** The first error an app-facing callback threw in this turn's effects (see notify). */
  private callbackFailure: unknown;
  /** Highest delivery seq applied and not yet confirmed stored to the session. */
  private unstoredSeq = 0;
  private stopped = false;
  private paused = false;
  status: ClientStatus = ClientStatus.Offline;
  /** The URL of the open socket, if any. */
  connectedUrl: string | undefined;
  /** Sockets opened so far (a reconnect counts). */
  connects = 0;
  /** Set once an origin refused a presence frame (it predates presence): sync goes on without it. */
  presenceUnsupported = false;

  constructor(options: SyncConnectionOptions) {
    this.o = options;
  }

  start(): void {
    this.open();
    this.tickTimer = setInterval(() => {
      this.session?.tick();
      this.drain();
    }, TICK_MS);
  }

  /** A stored local change: hand it to the live session, or keep it for the next one. */
  localChange(bytes: Uint8Array): void {
    const s = this.session;
    if (s !== undefined && !s.closed) {
      s.localDelta(bytes);
      this.drain();
    } else {
      this.o.state.addLocal(bytes);
    }
  }

  /** Sends a peer's presence on the live session; false when there is none that can carry it. */
  sendPresence(peer: ReplicaId, state: Uint8Array | undefined): boolean {
    const s = this.session;
    if (s === undefined || this.presenceUnsupported || !s.sendPresence(peer, state)) return false;
    this.flushFrames();
    return true;
  }

  /** Cuts the current socket (as a network failure would) and reconnects after a backoff. */
  drop(): void {
    this.lease?.fail('dropped by the client'); // every client on the socket hears `lost`
    this.lost();
  }

  /** Goes offline on purpose (e.g. the browser's `offline` event): no socket, no retries. */
  pause(): void {
    if (this.stopped || this.paused) return;
    this.paused = true;
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.teardown();
    this.setStatus(ClientStatus.Offline);
  }

  /** Back online (e.g. the browser's `online` event): connects at once. */
  resume(): void {
    if (this.stopped || !this.paused) return;
    this.paused = false;
    this.o.backoff.reset();
    this.open();
  }

  stop(): void {
    this.stopped = true;
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
    if (this.tickTimer !== undefined) clearInterval(this.tickTimer);
    this.session?.close('client closed');
    this.flushFrames();
    // Deliveries applied but not yet saved are saved now, so a client closing (and the
    // next one opened on its storage) keeps them.
    if (this.saveTimer !== undefined) this.saveNow();
    this.teardown();
    this.setStatus(ClientStatus.Offline);
  }

  // ---- internals ---------------------------------------------------------------------

  private open(): void {
    if (this.stopped || this.paused) return;
    const url = this.o.urls[this.urlIndex % this.o.urls.length]!;
    this.urlIndex++;
    let lease: SocketLease;
    try {
      lease = joinSocket(this.o.WebSocket, url, this.member, this.o.shareSocket ?? true);
    } catch (e) {
      this.report(e);
      return this.scheduleReconnect();
    }
    this.lease = lease;
    this.setStatus(ClientStatus.Connecting);
    if (lease.isOpen) this.socketOpened();
  }

  /** How the shared socket reaches this client. */
  private readonly member: SocketMember = {
    opened: () => this.socketOpened(),
    frame: (bytes, header) => {
      this.mux?.receive(bytes, header);
      this.drain();
    },
    lost: () => this.lost(),
    error: (message) => this.o.onError?.(new Error(message)),
  };

  /** The socket is open: a session on a channel of our own. */
  private socketOpened(): void {
    const lease = this.lease;
    if (lease === undefined || this.session !== undefined) return;
    this.connects++;
    this.connectedUrl = lease.url;
    const mux = new Multiplexer();
    const session = new ClientSyncSession({
      channel: lease.allocateChannel(),
      keyspace: this.o.keyspace,
      replica: this.o.replica,
      state: this.o.state,
      token: this.o.token,
      localStoreLoaded: true,
      handshakeTimeoutTicks: Math.ceil((this.o.handshakeTimeoutMs ?? 10_000) / TICK_MS),
    });
    this.mux = mux;
    this.session = session;
    this.unstoredSeq = 0;
    mux.add(session);
    session.start();
    this.drain();
  }

  private lost(): void {
    if (this.lease === undefined) return;
    this.teardown();
    if (this.stopped) return;
    this.setStatus(ClientStatus.Offline);
    this.scheduleReconnect();
  }

  private teardown(): void {
    // The socket may stay open for other keyspaces: end this one's session on it properly
    // (the server drops its presence at once). A socket already gone sends nothing.
    if (this.session !== undefined && !this.session.closed) {
      this.session.close('client left');
      this.flushFrames();
    }
    const lease = this.lease;
    this.lease = undefined;
    this.mux = undefined;
    const hadSession = this.session !== undefined;
    this.session = undefined;
    this.connectedUrl = undefined;
    lease?.leave();
    if (hadSession) this.o.onPresenceLost?.();
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.paused || this.reconnectTimer !== undefined) return;
    const delay = this.o.backoff.next();
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.open();
    }, delay);
  }

  /** Carries out the session's effects and sends its frames. */
  private drain(): void {
    const s = this.session;
    if (s === undefined) return;
    let dirty = false;
    let committed = 0;
    for (const e of s.takeEffects()) {
      switch (e.kind) {
        case 'status':
          if (e.status === 'synced') this.o.backoff.reset();
          if (e.status !== 'closed') this.setStatus(e.status);
          if (e.status === 'syncing') this.notify(() => this.o.onPresenceOpen?.());
          break;
        case 'presence':
          this.notify(() => this.o.onPresence?.(e.peer, e.state));
          break;
        case 'deliver': {
          // The replica's change listeners are the app's: what they throw reaches onError through
          // the replica's listener-error handler (the client sets one); notify covers a replica
          // without one, which throws once the delta is in and every listener ran.
          let changed: readonly ChangeEvent[] = [];
          this.notify(() => {
            changed = this.o.replica.applyDelta(e.delta);
          });
          this.notify(() => this.o.onDelivered?.(e.delta, changed));
          this.unstoredSeq = e.seq;
          dirty = true;
          break;
        }
        case 'chunk':
          // Parts of a bulk transfer are kept in memory only: after a restart it starts over.
          this.unstoredSeq = e.seq;
          dirty = true;
          break;
        case 'cursor':
          dirty = true;
          break;
        case 'acknowledged':
          if (e.level === 'committed') committed = Math.max(committed, e.lsn);
          break;
        case 'closed':
          if (e.error !== undefined) this.o.onError?.(e.error);
          if (e.error?.remote === true && e.error.message.includes(PRESENCE_UNKNOWN)) this.presenceUnsupported = true;
          this.flushFrames();
          // The server ended this keyspace's channel: leave the socket (other keyspaces may
          // share it) and come back on a new channel. A session that failed on our side
          // (e.g. no answer to the handshake) suspects the connection: it is cut for all.
          if (e.error !== undefined && !e.error.remote) this.drop();
          else this.lost();
          this.reportCallbackFailure();
          return;
      }
    }
    this.flushFrames();
    if (committed > 0) {
      // The snapshot saved first includes the committed changes; then they can go.
      void this.o.store.saveReplica(this.o.replica, this.o.state).then(() => this.o.store.dropPendingThrough(committed)).then(
        () => this.o.onCommitted(committed),
        (e: unknown) => this.report(e),
      );
    }
    if (dirty) this.scheduleSave();
    this.reportCallbackFailure();
  }

  /**
   * Runs an app-facing callback. One that throws must not stop the effects after it (the
   * deliveries already applied still get saved, acknowledged and sent on): its error is
   * reported once the turn's effects are carried out.
   */
  private notify(callback: () => void): void {
    try {
      callback();
    } catch (e) {
      this.callbackFailure ??= e;
    }
  }

  private reportCallbackFailure(): void {
    const failure = this.callbackFailure;
    this.callbackFailure = undefined;
    this.report(failure);
  }

  private report(failure: unknown): void {
    if (failure !== undefined) reportError(failure, this.o.onError);
  }

  /** Saves the replica and cursor once per turn, then confirms the deliveries stored. */
  private scheduleSave(): void {
    if (this.saveTimer === undefined) this.saveTimer = setTimeout(() => this.saveNow(), 0);
  }

  private saveNow(): void {
    clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    const session = this.session;
    const seq = this.unstoredSeq;
    this.o.store.saveReplica(this.o.replica, this.o.state).then(
      () => {
        if (this.session !== session || session === undefined || session.closed) return;
        if (seq > 0) session.storedUpTo(seq);
        this.drain();
      },
      (e: unknown) => this.report(e),
    );
  }

  private flushFrames(): void {
    const lease = this.lease;
    const mux = this.mux;
    if (lease === undefined || mux === undefined) return;
    for (const f of mux.takeFrames()) lease.send(f);
  }

  private setStatus(status: ClientStatus): void {
    if (this.stopped && status !== ClientStatus.Offline) return;
    if (this.status === status) return;
    this.status = status;
    this.o.onStatus(status);
  }
}
