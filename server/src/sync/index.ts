// The origin's sync endpoint: the pure sync sessions served over WebSocket, with clients'
// deltas committed through the replicated log.
export { CommittedKeyspaceSource, EMPTY_LOG_ID } from './committed-keyspace-source.ts';
export { OriginSync, OriginConnection, type OriginSyncOptions, type SyncCommitter, type FrameSink } from './origin-sync.ts';
export { SyncEndpoint, SYNC_PATH, type SyncEndpointOptions } from './sync-endpoint.ts';
