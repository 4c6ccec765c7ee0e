// The state machine's storage engine: LMDB through the `lmdb` package.
//
// Chosen by measurement (bench/cluster/engine-bench.ts, bench/results/engine.json, 50,000
// keys of 200 bytes on this 2-core machine): LMDB applied ~27,600 two-key atomic batches/s
// against LevelDB's ~15,000, answered ~263,000 point reads/s against ~113,000 (LevelDB's
// getSync; its async get only ~19,000), scanned 100-key ranges ~4.9x faster and bulk-loaded
// ~2.2x faster. It also has synchronous transactions, which the synchronous KvStorage seam
// needs (classic-level's batch is async only).
//
// Durability: opened with noSync. The WAL (fsync'd before any acknowledgement) and the
// snapshot files are what survive a crash; after a restart the node replays WAL entries past
// the applied index stored here. A process crash loses nothing LMDB committed (pages are in
// the OS cache). An OS crash may roll the store back, which the replay covers, or, as LMDB
// documents for noSync, leave it damaged: the store is derived data, so deleting the node's
// `state` directory makes it rebuild from its snapshot file and WAL at the next start
// (test/integration/cluster/raft-snapshot.test.ts). Pass `durable: true` to fsync every
// batch instead.
//
// `useWritemap` (commits become writes into the map, no pwrite per dirty page) made batched
// apply 40-60% faster in bench/cluster/apply-bench.ts, alternated runs; bench:cluster showed
// no difference beyond its noise, so the default, safer against stray writes, stays.
import { open, type Database, type RootDatabase } from 'lmdb';
import type { KvStorage, RangeOptions, StorageEntry, StorageOp } from '../../../core/src/kv/storage.ts';

export interface LmdbStorageOptions {
  readonly path: string;
  /** fsync every batch (slow); default false, see the header comment. */
  readonly durable?: boolean;
  /** Map size in bytes; LMDB grows it as needed; default 256 MiB to start. */
  readonly mapSizeBytes?: number;
}

export class LmdbKvStorage implements KvStorage {
  private readonly db: RootDatabase<Uint8Array, string> & Database<Uint8Array, string>;

  constructor(options: LmdbStorageOptions) {
    this.db = open<Uint8Array, string>({
      path: options.path,
      encoding: 'binary',
      noSync: options.durable !== true,
      mapSize: options.mapSizeBytes ?? 256 * 1024 * 1024,
    });
  }

  get(key: string): Uint8Array | undefined {
    const v = this.db.get(key);
    return v === undefined ? undefined : toPlain(v);
  }

  put(key: string, value: Uint8Array): void {
    this.db.putSync(key, value);
  }

  delete(key: string): void {
    this.db.removeSync(key);
  }

  *range(options: RangeOptions): Iterable<StorageEntry> {
    const range: { start?: string; end?: string; limit?: number } = {};
    if (options.gte !== undefined) range.start = options.gte;
    if (options.lt !== undefined) range.end = options.lt;
    if (options.limit !== undefined) range.limit = options.limit;
    for (const { key, value } of this.db.getRange(range)) yield { key, value: toPlain(value) };
  }

  /**
   * Every entry through one LMDB read transaction taken now: LMDB keeps its pages as of
   * this moment for the iterator, whatever later batches write (MVCC), until it ends.
   */
  frozenEntries(): Iterator<StorageEntry, undefined> {
    const txn = this.db.useReadTransaction();
    const inner = this.db.getRange({ transaction: txn })[Symbol.iterator]();
    let open = true;
    const end = (): IteratorReturnResult<undefined> => {
      if (open) {
        open = false;
        inner.return?.();
        txn.done();
      }
      return { done: true, value: undefined };
    };
    return {
      next: () => {
        if (!open) return end();
        const r = inner.next();
        // Copied: the engine's buffer may be reused once the iterator moves on.
        return r.done === true ? end() : { done: false, value: { key: r.value.key, value: toPlain(r.value.value) } };
      },
      return: end,
    };
  }

  batch(ops: readonly StorageOp[]): void {
    if (ops.length === 0) return;
    this.db.transactionSync(() => {
      for (const op of ops) {
        if (op.type === 'put') this.db.putSync(op.key, op.value);
        else this.db.removeSync(op.key);
      }
    });
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

/** A plain Uint8Array copy: Buffer#slice aliases, and callers may keep values. */
function toPlain(v: Uint8Array): Uint8Array {
  const out = new Uint8Array(v.length);
  out.set(v);
  return out;
}
