// @neuroplex/server: the origin node. Main entry points only; each component's index.ts
// (http/, node/, storage/, wal/, metrics/, cli/) lists the rest.
export { createOriginApp, type OriginAppOptions } from './http/index.ts';
export { LocalNode, type LocalNodeOptions, type OriginNode, Consistency } from './node/index.ts';
export { WriteAheadLog, WalCorruptError, type WalEntry, type HardState, type SnapshotMeta } from './wal/index.ts';
export { LmdbKvStorage, CachedKvStorage, ArcCache } from './storage/index.ts';
export { MetricsRegistry } from './metrics/index.ts';
export { main } from './cli/index.ts';
