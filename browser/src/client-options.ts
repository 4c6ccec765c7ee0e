// The client's public option and result types (DESIGN.md, "The client API"), apart from the
// NeuroplexClient class so that both stay readable.
import type { JsonValue } from '../../core/src/codec/json-value.ts';
import type { CounterHandle } from '../../core/src/doc/handles.ts';
import type { BackoffOptions } from './backoff.ts';
import type { PresenceOptions, PresencePeer } from './presence.ts';
import type { StorageAdapter } from './storage/storage-adapter.ts';
import type { ClientStatus } from './sync-connection.ts';
import type { TabEnvironment } from './tab-coordinator.ts';
import type { WebSocketConstructor } from './transport.ts';

export const Consistency = { Eventual: 'eventual', Causal: 'causal', Strong: 'strong' } as const;
export type Consistency = (typeof Consistency)[keyof typeof Consistency];

export interface OperationOptions {
  /** Default 'causal' (the local replica; reads see this client's own writes). */
  readonly consistency?: Consistency;
  /** Strong operations: ms to wait for the origin (default 5,000). */
  readonly timeout?: number;
}

export interface DeleteOptions extends OperationOptions {
  /** Also wait until this many origin members have applied the delete. */
  readonly replicas?: number;
}

export interface ConnectOptions {
  /** The origin's sync endpoint (ws://host:port/v1/sync), or several to fail over between. */
  readonly url: string | readonly string[];
  readonly keyspace?: string;
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
  /**
   * Tabs sharing one IndexedDB keyspace (tab-coordinator.ts): one owns the socket and the
   * log, the others go through it. Default: on with storage 'indexeddb' where the platform
   * has Web Locks and BroadcastChannel; false turns it off; tests pass fakes.
   */
  readonly tabs?: boolean | TabEnvironment;
  /**
   * Clients of several keyspaces in one page share one socket per origin URL, each keyspace
   * on its own channel (default true). false: this client opens a socket of its own (e.g.
   * to simulate separate users in one process).
   */
  readonly shareSocket?: boolean;
  /**
   * Errors, for diagnostics: session and socket errors (the client retries on its own),
   * and ones it cannot act on (a failed save, a throwing listener), which go to
   * `console.error` when this is not given.
   */
  readonly onError?: (error: Error) => void;
  /** Presence timing and size (heartbeat, timeout, coalescing interval, state limit). */
  readonly presence?: PresenceOptions;
}

/** `client.presence`: this client's ephemeral state and the others present (presence.ts). */
export interface PresenceApi {
  /** This client's id among the peers others see: random per client instance (a reload or a reopened client gets a new one). */
  readonly peerId: string;
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

