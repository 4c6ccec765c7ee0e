// What NeuroplexClient.connect opens before the client exists: its origin URLs, the storage
// adapter (memory, IndexedDB or the app's), tab coordination (one tab owns the sync socket),
// and the keyspace's local replica and sync state loaded from storage.
import { type ReplicaId, replicaIdFromBytes } from '../../core/src/clock/replica-id.ts';
import type { Replica } from '../../core/src/doc/replica.ts';
import { InvalidArgumentError } from '../../core/src/errors.ts';
import type { ClientSyncState } from '../../core/src/sync/client-state.ts';
import type { ConnectOptions } from './client-options.ts';
import { bytesToHex } from './client-util.ts';
import { LocalStore } from './local-store.ts';
import { IndexedDbStorage } from './storage/indexeddb-storage.ts';
import { MemoryStorage } from './storage/memory-storage.ts';
import type { StorageAdapter } from './storage/storage-adapter.ts';
import { platformTabEnvironment, TabCoordinator, TabRole } from './tab-coordinator.ts';

/** The parts a client is built from. */
export interface ClientParts {
  readonly keyspace: string;
  readonly urls: readonly string[];
  readonly tabs: TabCoordinator | undefined;
  readonly store: LocalStore;
  readonly replica: Replica;
  readonly state: ClientSyncState;
  /**
   * Presence is per client instance, not per replica: a client reopened on the same storage
   * must not be confused with its predecessor, whose leave may still be in flight.
   */
  readonly presenceId: ReplicaId;
}

/**
 * Opens the parts of a client for `options` and builds it with `build`. If loading or
 * building fails, the tab coordination it joined is left (another tab may own the keyspace).
 */
export async function openClient<T>(options: ConnectOptions, build: (parts: ClientParts) => T): Promise<T> {
  const urls = typeof options.url === 'string' ? [options.url] : [...options.url];
  if (urls.length === 0) throw new InvalidArgumentError('connect needs at least one url');
  const keyspace = options.keyspace ?? 'default';
  const adapter = await storageFor(options.storage);
  const random = (n: number): Uint8Array => globalThis.crypto.getRandomValues(new Uint8Array(n));
  const env = options.tabs === false ? undefined : options.tabs === true || options.tabs === undefined ? (options.storage === 'indexeddb' || options.tabs === true ? platformTabEnvironment() : undefined) : options.tabs;
  const tabs = env === undefined ? undefined : await TabCoordinator.start(env, `neuroplex:${keyspace}`, bytesToHex(random(8)));
  try {
    const { store, replica, state } = await LocalStore.open(adapter, keyspace, random, () => Date.now(), tabs?.role !== TabRole.Follower);
    return build({ keyspace, urls, tabs, store, replica, state, presenceId: replicaIdFromBytes(random(7)) });
  } catch (e) {
    void tabs?.close();
    throw e;
  }
}

function storageFor(storage: ConnectOptions['storage']): StorageAdapter | Promise<StorageAdapter> {
  if (storage === undefined || storage === 'memory') return new MemoryStorage();
  return storage === 'indexeddb' ? IndexedDbStorage.open() : storage;
}
