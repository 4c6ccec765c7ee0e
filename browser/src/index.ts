// @neuroplex/browser: the client SDK (browsers and Node).
export { NeuroplexClient, Consistency, type ConnectOptions, type OperationOptions, type StatusEvent, type CounterApi, type SetApi, type DeleteOptions, type PresenceApi } from './client.ts';
export { Batch, type BatchOpOptions, type BatchOpResult, type BatchResult } from './batch.ts';
export { DeltaStream, type DeltaStreamOptions } from './delta-stream.ts';
export { type ClientMetrics, type LatencySummary } from './metrics.ts';
export { TabRole, type TabEnvironment, type LockManagerLike, type BroadcastChannelLike } from './tab-coordinator.ts';
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
  BatchConflictError,
  NotEnoughReplicasError,
  InvalidDeltaError,
} from './errors.ts';

export const packageName = '@neuroplex/browser';
