// NeuroplexClient: the app's handle on one keyspace (DESIGN.md, "The client API"). Reads
// and writes go to the local Replica at once (eventual/causal: a client always reads its
// own writes); each local change is stored, then synced to the origin, which commits it
// through Raft before acknowledging. Strong operations go to the origin's HTTP API and
// fail fast while offline. Works in browsers and in Node (pass a WebSocket class there).
import type { JsonValue } from '../../core/src/codec/json-value.ts';
import type { MapHandle, RegisterHandle } from '../../core/src/doc/handles.ts';
import type { Delta } from '../../core/src/crdt/delta.ts';
import type { MapStore } from '../../core/src/crdt/map-store.ts';
import type { ChangeEvent, Replica } from '../../core/src/doc/replica.ts';
import type { ListHandle, TextHandle } from '../../core/src/doc/sequence-handles.ts';
import { InvalidArgumentError } from '../../core/src/errors.ts';
import type { ClientSyncState } from '../../core/src/sync/client-state.ts';
import { Backoff } from './backoff.ts';
import { Batch, type BatchResult, deleteKey, executeBatch } from './batch.ts';
import { type Change, ChangeStream } from './change-stream.ts';
import { ClientClosedError, NotSupportedError } from './errors.ts';
import { DeltaPeers, type DeltaStream, type DeltaStreamOptions } from './delta-stream.ts';
import type { LocalStore } from './local-store.ts';
import { LocalWrites } from './local-writes.ts';
import type { PresenceListener } from './presence.ts';
import { TabPresence } from './tab-presence.ts';
import { type TabCoordinator, type TabHooks, TabRole } from './tab-coordinator.ts';
import { counterApi, setApi } from './client-apis.ts';
import { type ClientParts, openClient } from './client-open.ts';
import type { ConnectOptions, CounterApi, DeleteOptions, OperationOptions, PresenceApi, SetApi, StatusEvent } from './client-options.ts';
import { callListener, followNetworkEvents, levelOf, monotonicMs, reportError } from './client-util.ts';
import { type ClientMetrics, MetricsRecorder } from './metrics.ts';
import { httpBaseOf, StrongApi } from './strong-api.ts';
import { ClientStatus, SyncConnection } from './sync-connection.ts';
import { defaultWebSocket } from './transport.ts';

export { Consistency, type OperationOptions, type DeleteOptions, type ConnectOptions, type StatusEvent, type CounterApi, type SetApi, type PresenceApi } from './client-options.ts';

const DEFAULT_STRONG_TIMEOUT_MS = 5_000;

export class NeuroplexClient {
  readonly keyspace: string;
  readonly replica: Replica;
  readonly counter: CounterApi;
  readonly set: SetApi;
  readonly presence: PresenceApi;
  private readonly presenceImpl: TabPresence;
  private readonly state: ClientSyncState;
  private readonly store: LocalStore;
  private readonly connection: SyncConnection;
  private readonly strong: StrongApi;
  private readonly statusListeners = new Set<(e: StatusEvent) => void>();
  private readonly streams = new Set<ChangeStream>();
  private flushWaiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  private readonly writes: LocalWrites;
  private closed = false;
  private readonly ownsStorage: boolean;
  private unfollowNetwork: () => void = () => {};
  private readonly recorder = new MetricsRecorder(monotonicMs, () => Date.now());
  private readonly peers: DeltaPeers;
  private readonly tabs: TabCoordinator | undefined;
  private readonly onError: ((error: Error) => void) | undefined;

  private constructor(parts: ClientParts, options: ConnectOptions) {
    const { keyspace, replica, state, store, urls, tabs, presenceId } = parts;
    this.keyspace = keyspace;
    this.tabs = tabs;
    this.onError = options.onError;
    this.ownsStorage = options.storage === undefined || typeof options.storage === 'string';
    this.replica = replica;
    this.state = state;
    this.store = store;
    this.writes = new LocalWrites(store, state, this.recorder, (bytes) => {
      this.connection.localChange(bytes);
      this.tabs?.broadcastChange(bytes);
      this.changed();
    }, () => this.changed());
    const WebSocket = options.WebSocket ?? defaultWebSocket();
    if (WebSocket === undefined) throw new InvalidArgumentError('no WebSocket on this platform: pass ConnectOptions.WebSocket (e.g. the `ws` package)');
    this.connection = new SyncConnection({
      urls,
      keyspace,
      token: options.token ?? '',
      replica,
      state,
      store,
      WebSocket,
      backoff: new Backoff(options.backoff),
      ...(options.handshakeTimeoutMs === undefined ? {} : { handshakeTimeoutMs: options.handshakeTimeoutMs }),
      ...(options.shareSocket === undefined ? {} : { shareSocket: options.shareSocket }),
      onStatus: () => this.changed(),
      onCommitted: (lsn) => {
        this.recorder.committedThrough(lsn);
        this.changed();
      },
      onDelivered: (delta, changed) => {
        this.remoteApplied(delta, changed);
        this.peers.forward(delta);
        this.tabs?.broadcastChange(this.replica.encodeDelta(delta));
      },
      ...(options.onError === undefined ? {} : { onError: options.onError }),
      onPresenceOpen: () => this.presenceImpl.sessionOpened(),
      onPresence: (peer, state) => this.presenceImpl.received(peer, state),
      onPresenceLost: () => this.presenceImpl.sessionLost(),
    });
    this.presenceImpl = new TabPresence(presenceId, this.connection, tabs, options.presence);
    this.presence = this.presenceImpl.api(() => this.checkOpen());
    const fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.strong = new StrongApi(keyspace, () => {
      const url = this.isFollower ? this.tabs!.ownerStatus.url : this.connection.connectedUrl;
      return url === undefined ? undefined : httpBaseOf(url);
    }, fetchFn);
    const keep = (bytes: Uint8Array): Promise<void> => (this.isFollower ? this.tabs!.sendDelta(bytes) : this.writes.append(bytes));
    this.peers = new DeltaPeers(replica, keyspace, keep, (delta, changed) => {
      this.remoteApplied(delta, changed);
      this.peers.forward(delta);
    });
    // An app's throwing change listener is reported, never thrown into the client's own work
    // (a write, a delivery, a change from another tab or peer).
    replica.onListenerError((e) => reportError(e, this.onError));
    replica.onLocalDelta((delta) => {
      if (this.isFollower) {
        this.writes.last = this.tabs!.sendDelta(replica.encodeDelta(delta));
        this.changed();
      } else void this.writes.append(replica.encodeDelta(delta));
      this.peers.forward(delta);
    });
    const timedWrite = (op: () => unknown): Promise<void> => this.recorder.time('causal', () => this.write(op));
    this.counter = counterApi(replica, timedWrite);
    this.set = setApi(replica, timedWrite, (key, value, opts) => this.setRegister(key, value, opts));
  }

  /**
   * Opens the keyspace from storage and starts syncing. Resolves once the local replica is
   * loaded (offline-first: it does not wait for the origin; see `status` and `flushed`).
   */
  static async connect(options: ConnectOptions): Promise<NeuroplexClient> {
    const client = await openClient(options, (parts) => new NeuroplexClient(parts, options));
    const tabs = client.tabs;
    if (tabs === undefined || tabs.role === TabRole.Owner) client.connection.start();
    tabs?.attach(client.tabHooks());
    const network = options.networkEvents === undefined ? (globalThis as { window?: EventTarget }).window : options.networkEvents;
    client.unfollowNetwork = followNetworkEvents(
      network,
      () => client.connection.pause(),
      () => client.connection.resume(),
    );
    return client;
  }

  get status(): ClientStatus {
    return this.isFollower ? (this.tabs!.ownerStatus.status as ClientStatus) : this.connection.status;
  }

  /** Local changes not yet acknowledged as committed (a follower tab: its own unconfirmed ones plus the owner tab's). */
  get unacknowledged(): number {
    if (this.isFollower) return this.tabs!.pending + this.tabs!.ownerStatus.unacknowledged;
    return this.state.pending.length + this.writes.storing;
  }

  /** The URL of the origin the client is connected to, if any (a follower tab: the owner tab's). */
  get connectedUrl(): string | undefined {
    return this.isFollower ? this.tabs!.ownerStatus.url : this.connection.connectedUrl;
  }

  /** 'owner' when this client holds the sync socket; 'follower' when another tab does. */
  get tabRole(): TabRole {
    return this.tabs?.role ?? TabRole.Owner;
  }

  on(event: 'status', listener: (e: StatusEvent) => void): () => void;
  on(event: 'presence', listener: PresenceListener): () => void;
  on(event: 'status' | 'presence', listener: ((e: StatusEvent) => void) | PresenceListener): () => void {
    if (event === 'presence') {
      const l = listener as PresenceListener;
      // Called from timers and the sync loop: an error it throws is reported, never thrown there.
      return this.presenceImpl.presence.on((peers) => callListener(l, peers, this.onError));
    }
    if (event !== 'status') throw new InvalidArgumentError(`unknown event ${String(event)}`);
    const l = listener as (e: StatusEvent) => void;
    this.statusListeners.add(l);
    return () => this.statusListeners.delete(l);
  }

  async get(key: string, options: OperationOptions = {}): Promise<unknown> {
    this.checkOpen();
    return this.recorder.time(levelOf(options), async () => {
      if (options.consistency === 'strong') return (await this.strong.get(key, options.timeout ?? DEFAULT_STRONG_TIMEOUT_MS))?.value;
      return this.replica.get(key);
    });
  }

  /**
   * Deletes `key`. With `replicas: N` it also waits until N origin members have applied the
   * delete (see batch.ts); that needs the origin, so it fails fast while offline.
   */
  async delete(key: string, options: DeleteOptions = {}): Promise<void> {
    this.checkOpen();
    const timeoutMs = options.timeout ?? DEFAULT_STRONG_TIMEOUT_MS;
    const deleteLocally = (): Promise<void> => this.write(() => this.replica.delete(key));
    await this.recorder.time(levelOf(options), () => deleteKey(this.strong, key, options, timeoutMs, deleteLocally, () => this.flushed()));
  }

  /**
   * A stream of encoded deltas for the peer `peerId` over the app's own transport: what the
   * peer lacks, then live changes (see delta-stream.ts).
   */
  async createDeltaStream(peerId: string, options: DeltaStreamOptions = {}): Promise<DeltaStream> {
    this.checkOpen();
    return this.peers.open(peerId, options);
  }

  /**
   * Applies an envelope from a peer's delta stream: validated in full first (InvalidDeltaError,
   * nothing applied), stored, then acknowledged: the result goes back to the peer's
   * `stream.acknowledge()`.
   */
  async applyDelta(delta: Uint8Array): Promise<Uint8Array> {
    this.checkOpen();
    return this.peers.apply(delta);
  }

  /** A new, empty batch: chain `set`/`delete`/`get`, then `executeBatch(batch)`. */
  createBatch(): Batch {
    return new Batch();
  }

  /** Runs the batch atomically through the origin (all or nothing; see batch.ts). */
  async executeBatch(batch: Batch, options: { timeout?: number } = {}): Promise<BatchResult> {
    this.checkOpen();
    return this.recorder.time('strong', () => executeBatch(this.strong, batch, options.timeout ?? DEFAULT_STRONG_TIMEOUT_MS));
  }

  /** Latency, convergence, conflict and backlog figures (see metrics.ts for definitions). */
  metrics(): ClientMetrics {
    return this.recorder.snapshot(this.unacknowledged);
  }

  register(key: string): RegisterHandle {
    return this.replica.register(key);
  }

  map(key: string): MapHandle {
    return this.replica.map(key);
  }

  text(key: string): TextHandle {
    return this.replica.text(key);
  }

  list(key: string): ListHandle {
    return this.replica.list(key);
  }

  keys(prefix = ''): string[] {
    return this.replica.keys(prefix);
  }

  /** Changes of keys matching `pattern` (`*`, `user:*`, or one key), local and remote. */
  subscribe(pattern: string, options: { maxQueued?: number } = {}): AsyncIterableIterator<Change> {
    this.checkOpen();
    const stream = new ChangeStream(this.replica, pattern, options.maxQueued);
    this.streams.add(stream);
    return stream;
  }

  /**
   * Resolves when every local change made so far is stored locally (for IndexedDB: its
   * transaction completed), e.g. after edits through a text, list or map handle.
   */
  stored(): Promise<void> {
    return this.writes.last;
  }

  /** Resolves when every local change made so far is acknowledged as committed. */
  flushed(): Promise<void> {
    if (this.closed) return Promise.reject(new ClientClosedError());
    if (this.unacknowledged === 0) return this.writes.last;
    return new Promise((resolve, reject) => this.flushWaiters.push({ resolve, reject }));
  }

  beginDistributedTransaction(_replicas?: readonly string[]): Promise<never> {
    throw new NotSupportedError('beginDistributedTransaction is not yet supported (it arrives with the transactions work)');
  }

  /**
   * Goes offline on purpose: local reads and writes go on, strong operations fail fast,
   * nothing is sent until goOnline(). Browsers call these from `offline`/`online` events.
   */
  goOffline(): void {
    this.checkOpen();
    this.connection.pause();
  }

  goOnline(): void {
    this.checkOpen();
    this.connection.resume();
  }

  /** Cuts the sync connection as a network failure would; the client reconnects by itself. */
  disconnectForTest(): void {
    this.connection.drop();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unfollowNetwork();
    this.connection.stop();
    this.presenceImpl.close();
    for (const s of this.streams) s.finish();
    this.peers.closeAll();
    for (const w of this.flushWaiters.splice(0)) w.reject(new ClientClosedError());
    const idle = this.store.idle();
    await this.tabs?.close(idle);
    await idle;
    // An adapter the app passed in stays open (the app may reopen the keyspace with it).
    if (this.ownsStorage) await this.store.adapter.close();
  }

  // ---- internals ---------------------------------------------------------------------

  private async setRegister(key: string, value: JsonValue, options: OperationOptions = {}): Promise<void> {
    this.checkOpen();
    await this.recorder.time(levelOf(options), async () => {
      if (options.consistency === 'strong') {
        await this.strong.put(key, value, options.timeout ?? DEFAULT_STRONG_TIMEOUT_MS);
        return;
      }
      await this.write(() => this.replica.put(key, value));
    });
  }

  private remoteApplied(delta: Delta<MapStore>, changed: readonly ChangeEvent[]): void {
    this.recorder.remoteApplied(
      changed.map((e) => e.key),
      (k) => this.replica.isConcurrent(k),
      delta.store,
      this.replica.id,
    );
  }

  /** Runs a local op; resolves once its change is stored. */
  private write(op: () => unknown): Promise<void> {
    this.checkOpen();
    op();
    return this.writes.last;
  }

  private get isFollower(): boolean {
    return this.tabs !== undefined && this.tabs.role === TabRole.Follower;
  }

  /** The client's side of tab coordination (tab-coordinator.ts). */
  private tabHooks(): TabHooks {
    return {
      becomeOwner: async (takeUnconfirmed) => {
        // Everything the old owner stored (its log and snapshot), then our unconfirmed changes.
        const stored = await this.store.adapter.load(this.keyspace);
        if (stored.replica !== undefined) this.applyRemote(stored.replica);
        for (const p of stored.pending) this.applyRemote(p.bytes);
        this.writes.adopt(stored);
        this.tabs!.role = TabRole.Owner;
        this.presenceImpl.becameOwner();
        for (const bytes of takeUnconfirmed()) void this.writes.append(bytes);
        await this.writes.last;
        if (!this.closed) this.connection.start();
        this.changed();
      },
      storeFromFollower: async (bytes) => {
        this.applyRemote(bytes);
        await this.writes.append(bytes);
      },
      applyFromOwner: (bytes) => this.applyRemote(bytes),
      followerChanged: () => this.changed(),
      presence: this.presenceImpl,
    };
  }

  /** A change from another tab (validated in full by the replica first). */
  private applyRemote(bytes: Uint8Array): void {
    let delta: Delta<MapStore>;
    try {
      delta = this.replica.decodeDelta(bytes);
    } catch {
      return; // not from a tab of ours: ignore it
    }
    this.remoteApplied(delta, this.replica.applyDelta(delta));
    this.peers.forward(delta);
  }

  private changed(): void {
    const e: StatusEvent = { status: this.status, unacknowledged: this.unacknowledged };
    if (this.tabs?.role === TabRole.Owner) this.tabs.broadcastStatus({ status: e.status, unacknowledged: e.unacknowledged, url: this.connection.connectedUrl });
    for (const l of this.statusListeners) callListener(l, e, this.onError);
    if (e.unacknowledged === 0 && this.flushWaiters.length > 0) for (const w of this.flushWaiters.splice(0)) w.resolve();
  }

  private checkOpen(): void {
    if (this.closed) throw new ClientClosedError();
  }
}
