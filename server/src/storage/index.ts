// The origin's storage engine (LMDB, chosen by bench/cluster/engine-bench.ts), its ARC read
// cache, and compressed snapshot files.
export { LmdbKvStorage, type LmdbStorageOptions } from './lmdb-storage.ts';
export { ArcCache } from './arc-cache.ts';
export { CachedKvStorage, type CachedStorageOptions } from './cached-storage.ts';
export {
  type StoredSnapshot,
  SnapshotFileError,
  snapshotFileName,
  compressSnapshot,
  decompressSnapshot,
  writeSnapshotFile,
  readSnapshotFile,
} from './snapshot-file.ts';
