// An in-memory KvStorage: a Map plus a sorted key array. The reference adapter for tests and
// the one the contract suite is checked against first.
import { compareCodePoints, type KvStorage, type RangeOptions, type StorageEntry, type StorageOp } from '../kv/storage.ts';

export class MemoryKvStorage implements KvStorage {
  private readonly values = new Map<string, Uint8Array>();
  /** Invariant: exactly the keys of `values`, sorted by code point. */
  private readonly keys: string[] = [];

  get size(): number {
    return this.values.size;
  }

  get(key: string): Uint8Array | undefined {
    return this.values.get(key);
  }

  put(key: string, value: Uint8Array): void {
    if (!this.values.has(key)) this.keys.splice(this.lowerBound(key), 0, key);
    this.values.set(key, value.slice());
  }

  delete(key: string): void {
    if (!this.values.delete(key)) return;
    this.keys.splice(this.lowerBound(key), 1);
  }

  *range(options: RangeOptions): Iterable<StorageEntry> {
    const limit = options.limit ?? Number.MAX_SAFE_INTEGER;
    const i = options.gte === undefined ? 0 : this.lowerBound(options.gte);
    // Snapshot the slice so a caller that writes while iterating sees a stable view.
    const keys = this.keys.slice(i);
    let n = 0;
    for (const key of keys) {
      if (n >= limit) return;
      if (options.lt !== undefined && compareCodePoints(key, options.lt) >= 0) return;
      const value = this.values.get(key);
      if (value === undefined) continue;
      n++;
      yield { key, value };
    }
  }

  batch(ops: readonly StorageOp[]): void {
    for (const op of ops) if (op.type === 'put') this.put(op.key, op.value);
    else this.delete(op.key);
  }

  private lowerBound(key: string): number {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareCodePoints(this.keys[mid]!, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
