// @neuroplex/browser: the client SDK (browsers and Node).
export { NeuroplexClient, Consistency, type ConnectOptions, type OperationOptions, type StatusEvent, type CounterApi, type SetApi, type PresenceApi } from './client.ts';
export { type PresencePeer, type PresenceListener, type PresenceOptions } from './presence.ts';
export { PresenceTooLargeError, PRESENCE_TOO_LARGE } from '../../core/src/sync/presence.ts';
export { ClientStatus } from './sync-connection.ts';
export { type Change } from './change-stream.ts';
export { Backoff, type BackoffOptions } from './backoff.ts';
export { type StorageAdapter, type StoredKeyspace, type StoredCursor } from './storage/storage-adapter.ts';
export { MemoryStorage } from './storage/memory-storage.ts';
export { IndexedDbStorage } from './storage/indexeddb-storage.ts';
export { type WebSocketLike, type WebSocketConstructor } from './transport.ts';
export {
  ClientErrorCode,
  ConsistencyUnavailableError,
  NotSupportedError,
  ClientClosedError,
  OriginError,
  SubscriptionOverflowError,
} from './errors.ts';

export const packageName = '@neuroplex/browser';
