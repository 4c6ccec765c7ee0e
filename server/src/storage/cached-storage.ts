// A read cache in front of any KvStorage, with ARC's adaptive policy. Write-through: writes
// go to the engine first, then update the cached copy, so the cache never holds a value the
// engine does not. Absent keys are cached too (state machine preconditions ask about keys
// that do not exist). Ranges go straight to the engine.
import { frozenEntries, type KvStorage, type RangeOptions, type StorageEntry, type StorageOp } from '../../../core/src/kv/storage.ts';
import { ArcCache } from './arc-cache.ts';

export interface CachedStorageOptions {
  /** Cached keys (present or absent); default 100,000. */
  readonly capacity?: number;
  /** Larger values are not cached (one 1 MiB value should not cost 100 small ones). */
  readonly maxCachedValueBytes?: number;
}

const ABSENT = null;

export class CachedKvStorage implements KvStorage {
  readonly inner: KvStorage;
  readonly cache: ArcCache<string, Uint8Array | null>;
  private readonly maxCachedValueBytes: number;

  constructor(inner: KvStorage, options: CachedStorageOptions = {}) {
    this.inner = inner;
    this.cache = new ArcCache(options.capacity ?? 100_000);
    this.maxCachedValueBytes = options.maxCachedValueBytes ?? 64 * 1024;
  }

  get(key: string): Uint8Array | undefined {
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit ?? undefined;
    const v = this.inner.get(key);
    this.remember(key, v);
    return v;
  }

  put(key: string, value: Uint8Array): void {
    this.inner.put(key, value);
    this.remember(key, value.slice());
  }

  delete(key: string): void {
    this.inner.delete(key);
    if (this.cache.has(key)) this.cache.set(key, ABSENT);
  }

  range(options: RangeOptions): Iterable<StorageEntry> {
    return this.inner.range(options);
  }

  /** The engine's point-in-time view (the cache is write-through: the engine has it all). */
  frozenEntries(): Iterator<StorageEntry, undefined> {
    return frozenEntries(this.inner);
  }

  batch(ops: readonly StorageOp[]): void {
    this.inner.batch(ops);
    for (const op of ops) {
      if (op.type === 'put') this.remember(op.key, op.value.slice());
      else if (this.cache.has(op.key)) this.cache.set(op.key, ABSENT);
    }
  }

  private remember(key: string, value: Uint8Array | undefined): void {
    if (value !== undefined && value.length > this.maxCachedValueBytes) this.cache.delete(key);
    else this.cache.set(key, value ?? ABSENT);
  }
}
