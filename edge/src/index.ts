// @neuroplex/edge: the Cloudflare Worker and the keyspace replica Durable Object.
export { app, ORIGIN_TIMEOUT_MS } from './app.ts';
export { KeyspaceReplicaObject, KEYSPACE_HEADER, DEBUG_HEADER, type ReplicaDebugInfo } from './replica-object.ts';
export { SqlKeyspaceLog, DEFAULT_COMPACT_AFTER_ENTRIES } from './sql-keyspace-log.ts';
export { OriginLink, ORIGIN_RETRY_MIN_MS, ORIGIN_RETRY_MAX_MS, type OriginLinkStatus } from './origin-link.ts';
export { CloseCode, EdgeErrorCode, ConsistencyUnavailableError, errorBody } from './errors.ts';
export type { EdgeEnv } from './env.ts';
