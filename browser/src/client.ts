// NeuroplexClient: the app's handle on one keyspace (DESIGN.md, "The client API"). Reads
// and writes go to the local Replica at once (eventual/causal: a client always reads its
// own writes); each local change is stored, then synced to the origin, which commits it
// through Raft before acknowledging. Strong operations go to the origin's HTTP API and
// fail fast while offline. Works in browsers and in Node (pass a WebSocket class there).
import type { JsonValue } from '../../core/src/codec/json-value.ts';
import type { CounterHandle, MapHandle, RegisterHandle } from '../../core/src/doc/handles.ts';
import type { Replica } from '../../core/src/doc/replica.ts';
import type { ListHandle, TextHandle } from '../../core/src/doc/sequence-handles.ts';
import { assert, InvalidArgumentError } from '../../core/src/errors.ts';
import type { ClientSyncState } from '../../core/src/sync/client-state.ts';
import { Backoff, type BackoffOptions } from './backoff.ts';
import { type Change, ChangeStream } from './change-stream.ts';
import { ClientClosedError, NotSupportedError } from './errors.ts';
import { LocalStore } from './local-store.ts';
import { Presence, type PresenceListener, type PresenceOptions, type PresencePeer } from './presence.ts';
import { IndexedDbStorage } from './storage/indexeddb-storage.ts';
import { MemoryStorage } from './storage/memory-storage.ts';
import type { StorageAdapter } from './storage/storage-adapter.ts';
import { httpBaseOf, StrongApi } from './strong-api.ts';
import { ClientStatus, SyncConnection } from './sync-connection.ts';
import { defaultWebSocket, type WebSocketConstructor } from './transport.ts';

export const Consistency = { Eventual: 'eventual', Causal: 'causal', Strong: 'strong' } as const;
export type Consistency = (typeof Consistency)[keyof typeof Consistency];

export interface OperationOptions {
  /** Default 'causal' (the local replica; reads see this client's own writes). */
  readonly consistency?: Consistency;
  /** Strong operations: ms to wait for the origin (default 5,000). */
  readonly timeout?: number;
}

export interface ConnectOptions {
  /** The origin's sync endpoint (ws://host:port/v1/sync), or several to fail over between. */
  readonly url: string | readonly string[];
  readonly keyspace?: string;
  /** 'memory' (default) or any StorageAdapter. */
  /** 'indexeddb' (browsers: survives reloads), 'memory' (the default), or any adapter. */
  readonly storage?: 'memory' | 'indexeddb' | StorageAdapter;
  /** Credential checked at each handshake. */
  readonly token?: string;
  /** WebSocket class (default: the platform's; in Node 20, pass the `ws` package's). */
  readonly WebSocket?: WebSocketConstructor;
  readonly fetch?: typeof fetch;
  readonly backoff?: BackoffOptions;
  readonly handshakeTimeoutMs?: number;
  /**
   * Where `online`/`offline` events come from (default: the page's `window`, when there is
   * one): `offline` pauses syncing at once (a browser keeps dead sockets open), `online`
   * reconnects without waiting for the backoff. Pass null to ignore them.
   */
  readonly networkEvents?: EventTarget | null;
  /** Diagnostics: session and socket errors (the client retries on its own). */
  readonly onError?: (error: Error) => void;
  /** Presence timing and size (heartbeat, timeout, coalescing interval, state limit). */
  readonly presence?: PresenceOptions;
}

/** `client.presence`: this client's ephemeral state and the others present (presence.ts). */
export interface PresenceApi {
  /** Mine; null = leave. Sent at once when connected, re-sent after every reconnect. */
  set(state: JsonValue | null): void;
  /** Others now present (not me); empty while offline. */
  peers(): ReadonlyMap<string, PresencePeer>;
}

export interface StatusEvent {
  readonly status: ClientStatus;
  /** Local changes not yet acknowledged as committed by the origin. */
  readonly unacknowledged: number;
}

export interface CounterApi {
  create(key: string): Promise<void>;
  increment(key: string, by?: number): Promise<void>;
  decrement(key: string, by?: number): Promise<void>;
  value(key: string): Promise<number>;
  handle(key: string): CounterHandle;
}

/** `client.set(key, value, options)` writes a register; its methods work on set CRDTs. */
export interface SetApi {
  (key: string, value: JsonValue, options?: OperationOptions): Promise<void>;
  add(key: string, value: JsonValue): Promise<void>;
  remove(key: string, value: JsonValue): Promise<void>;
  values(key: string): Promise<JsonValue[]>;
  has(key: string, value: JsonValue): Promise<boolean>;
}

const DEFAULT_STRONG_TIMEOUT_MS = 5_000;

export class NeuroplexClient {
  readonly keyspace: string;
  readonly replica: Replica;
  readonly counter: CounterApi;
  readonly set: SetApi;
  readonly presence: PresenceApi;
  private readonly presenceImpl: Presence;
  private readonly state: ClientSyncState;
  private readonly store: LocalStore;
  private readonly connection: SyncConnection;
  private readonly strong: StrongApi;
  private readonly statusListeners = new Set<(e: StatusEvent) => void>();
  private readonly streams = new Set<ChangeStream>();
  private flushWaiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  /** Local changes being stored, not yet handed to the sync state. */
  private storing = 0;
  private nextLsn: number;
  private lastWrite: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly ownsStorage: boolean;
  private unfollowNetwork: () => void = () => {};

  private constructor(keyspace: string, replica: Replica, state: ClientSyncState, store: LocalStore, options: ConnectOptions, urls: readonly string[]) {
    this.keyspace = keyspace;
    this.ownsStorage = options.storage === undefined || typeof options.storage === 'string';
    this.replica = replica;
    this.state = state;
    this.store = store;
    this.nextLsn = state.nextLsn;
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
      onStatus: () => this.changed(),
      onCommitted: () => this.changed(),
      ...(options.onError === undefined ? {} : { onError: options.onError }),
      onPresenceOpen: () => this.presenceImpl.sessionOpened(),
      onPresence: (peer, state) => this.presenceImpl.received(peer, state),
      onPresenceLost: () => this.presenceImpl.sessionLost(),
    });
    this.presenceImpl = new Presence(replica.id, this.connection, options.presence);
    this.presence = {
      set: (state) => {
        this.checkOpen();
        this.presenceImpl.set(state);
      },
      peers: () => this.presenceImpl.peers(),
    };
    const fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.strong = new StrongApi(keyspace, () => (this.connection.connectedUrl === undefined ? undefined : httpBaseOf(this.connection.connectedUrl)), fetchFn);
    replica.onLocalDelta((delta) => this.stored(replica.encodeDelta(delta)));
    this.counter = {
      create: async (key) => this.write(() => this.replica.counter(key).increment(0)),
      increment: async (key, by = 1) => this.write(() => this.replica.counter(key).increment(by)),
      decrement: async (key, by = 1) => this.write(() => this.replica.counter(key).decrement(by)),
      value: async (key) => this.replica.counter(key).value,
      handle: (key) => this.replica.counter(key),
    };
    const setFn = (key: string, value: JsonValue, opts?: OperationOptions): Promise<void> => this.setRegister(key, value, opts);
    this.set = Object.assign(setFn, {
      add: async (key: string, value: JsonValue) => this.write(() => this.replica.set(key).add(value)),
      remove: async (key: string, value: JsonValue) => this.write(() => this.replica.set(key).remove(value)),
      values: async (key: string) => this.replica.set(key).values(),
      has: async (key: string, value: JsonValue) => this.replica.set(key).has(value),
    });
  }

  /**
   * Opens the keyspace from storage and starts syncing. Resolves once the local replica is
   * loaded (offline-first: it does not wait for the origin; see `status` and `flushed`).
   */
  static async connect(options: ConnectOptions): Promise<NeuroplexClient> {
    const urls = typeof options.url === 'string' ? [options.url] : [...options.url];
    if (urls.length === 0) throw new InvalidArgumentError('connect needs at least one url');
    const keyspace = options.keyspace ?? 'default';
    const adapter =
      options.storage === undefined || options.storage === 'memory'
        ? new MemoryStorage()
        : options.storage === 'indexeddb'
          ? await IndexedDbStorage.open()
          : options.storage;
    const random = (n: number): Uint8Array => globalThis.crypto.getRandomValues(new Uint8Array(n));
    const { store, replica, state } = await LocalStore.open(adapter, keyspace, random, () => Date.now());
    const client = new NeuroplexClient(keyspace, replica, state, store, options, urls);
    client.connection.start();
    client.followNetwork(options.networkEvents === undefined ? (globalThis as { window?: EventTarget }).window : options.networkEvents);
    return client;
  }

  get status(): ClientStatus {
    return this.connection.status;
  }

  /** Local changes not yet acknowledged as committed by the origin. */
  get unacknowledged(): number {
    return this.state.pending.length + this.storing;
  }

  /** The URL of the origin the client is connected to, if any. */
  get connectedUrl(): string | undefined {
    return this.connection.connectedUrl;
  }

  on(event: 'status', listener: (e: StatusEvent) => void): () => void;
  on(event: 'presence', listener: PresenceListener): () => void;
  on(event: 'status' | 'presence', listener: ((e: StatusEvent) => void) | PresenceListener): () => void {
    if (event === 'presence') return this.presenceImpl.on(listener as PresenceListener);
    if (event !== 'status') throw new InvalidArgumentError(`unknown event ${String(event)}`);
    const l = listener as (e: StatusEvent) => void;
    this.statusListeners.add(l);
    return () => this.statusListeners.delete(l);
  }

  async get(key: string, options: OperationOptions = {}): Promise<unknown> {
    this.checkOpen();
    if (options.consistency === 'strong') return (await this.strong.get(key, options.timeout ?? DEFAULT_STRONG_TIMEOUT_MS))?.value;
    return this.replica.get(key);
  }

  async delete(key: string, options: OperationOptions = {}): Promise<void> {
    this.checkOpen();
    if (options.consistency === 'strong') {
      await this.strong.delete(key, options.timeout ?? DEFAULT_STRONG_TIMEOUT_MS);
      return;
    }
    await this.write(() => this.replica.delete(key));
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

  /** Resolves when every local change made so far is acknowledged as committed. */
  flushed(): Promise<void> {
    if (this.closed) return Promise.reject(new ClientClosedError());
    if (this.unacknowledged === 0) return this.lastWrite;
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
    for (const w of this.flushWaiters.splice(0)) w.reject(new ClientClosedError());
    await this.store.idle();
    // An adapter the app passed in stays open (the app may reopen the keyspace with it).
    if (this.ownsStorage) await this.store.adapter.close();
  }

  // ---- internals ---------------------------------------------------------------------

  private async setRegister(key: string, value: JsonValue, options: OperationOptions = {}): Promise<void> {
    this.checkOpen();
    if (options.consistency === 'strong') {
      await this.strong.put(key, value, options.timeout ?? DEFAULT_STRONG_TIMEOUT_MS);
      return;
    }
    await this.write(() => this.replica.put(key, value));
  }

  /** Runs a local op; resolves once its change is stored. */
  private write(op: () => unknown): Promise<void> {
    this.checkOpen();
    op();
    return this.lastWrite;
  }

  /** Every local op's delta: stored first, then handed to the sync state (same lsn). */
  private stored(bytes: Uint8Array): void {
    const p = { lsn: this.nextLsn++, bytes };
    this.storing++;
    this.lastWrite = this.store.appendPending(p).then(() => {
      this.storing--;
      assert(this.state.nextLsn === p.lsn, `stored change ${p.lsn} is not the sync state's next ${this.state.nextLsn}`);
      this.connection.localChange(bytes);
      this.changed();
    });
    this.changed();
  }

  private changed(): void {
    const e: StatusEvent = { status: this.connection.status, unacknowledged: this.unacknowledged };
    for (const l of this.statusListeners) l(e);
    if (e.unacknowledged === 0 && this.flushWaiters.length > 0) for (const w of this.flushWaiters.splice(0)) w.resolve();
  }

  private followNetwork(target: EventTarget | null | undefined): void {
    if (target === null || target === undefined) return;
    const offline = (): void => this.connection.pause();
    const online = (): void => this.connection.resume();
    target.addEventListener('offline', offline);
    target.addEventListener('online', online);
    this.unfollowNetwork = () => {
      target.removeEventListener('offline', offline);
      target.removeEventListener('online', online);
    };
  }

  private checkOpen(): void {
    if (this.closed) throw new ClientClosedError();
  }
}
