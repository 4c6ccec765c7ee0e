// The storage seam under the key-value state machine: a sorted map from string keys to bytes
// with atomic batches. Synchronous on purpose: the state machine applies one committed entry
// at a time and must not interleave, so reads and the batch that ends an apply are plain calls
// (the server's engine answers them from memory-mapped pages or its cache).
//
// Order: keys sort by Unicode code point, which is the byte order of their UTF-8 encoding, so
// an adapter over a byte-ordered engine (LMDB, LevelDB) and the in-memory one agree.

export type StorageOp =
  | { readonly type: 'put'; readonly key: string; readonly value: Uint8Array }
  | { readonly type: 'delete'; readonly key: string };

export interface StorageEntry {
  readonly key: string;
  readonly value: Uint8Array;
}

export interface RangeOptions {
  /** Inclusive lower bound; default: the first key. */
  readonly gte?: string;
  /** Exclusive upper bound; default: past the last key. */
  readonly lt?: string;
  /** At most this many entries. */
  readonly limit?: number;
}

export interface KvStorage {
  get(key: string): Uint8Array | undefined;
  put(key: string, value: Uint8Array): void;
  delete(key: string): void;
  /** Entries with gte <= key < lt in ascending code point order. */
  range(options: RangeOptions): Iterable<StorageEntry>;
  /** Applies every op or none; later ops on a key win over earlier ones. */
  batch(ops: readonly StorageOp[]): void;
  /**
   * Optional: every entry as of this call, in key order, through an iterator that later
   * batches do not change (an engine's read transaction), so a snapshot can be encoded over
   * many turns while writes go on. The caller must finish or `return()` the iterator.
   * Without it, a snapshot copies the entries at once (frozenEntries() below).
   */
  frozenEntries?(): Iterator<StorageEntry, undefined>;
}

/** A point-in-time iterator over all of `storage`: the engine's own, else a copy taken now. */
export function frozenEntries(storage: KvStorage): Iterator<StorageEntry, undefined> {
  if (storage.frozenEntries !== undefined) return storage.frozenEntries();
  return [...storage.range({})][Symbol.iterator]();
}

/** Compares strings by code point (= UTF-8 byte order), unlike `<` on UTF-16 units. */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (0xD800-0xDFFF) encode code points above 0xFFFF, which sort after every
    // BMP unit; everything else compares as UTF-16 does.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

/** The smallest string greater than every string that starts with `prefix`. */
export function prefixEnd(prefix: string): string {
  return prefix + '\u{10FFFF}';
}
