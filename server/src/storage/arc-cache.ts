// ARC, the Adaptive Replacement Cache (Megiddo & Modha, FAST 2003). Two resident lists, T1
// (seen once recently) and T2 (seen at least twice), and two ghost lists of evicted keys, B1
// and B2. A hit in a ghost list moves the target size `p` of T1 towards the side that would
// have hit, so the cache adapts between recency and frequency; a one-time scan only churns
// T1 and cannot flush the frequently used keys in T2.
//
// Each list is a Map in LRU -> MRU insertion order (delete + set moves a key to MRU).
// Invariants: |T1|+|T2| <= c, |T1|+|B1| <= c, |T1|+|T2|+|B1|+|B2| <= 2c, 0 <= p <= c.

export class ArcCache<K, V> {
  readonly capacity: number;
  private readonly t1 = new Map<K, V>();
  private readonly t2 = new Map<K, V>();
  private readonly b1 = new Map<K, true>();
  private readonly b2 = new Map<K, true>();
  /** Target size of T1. */
  private p = 0;
  hits = 0;
  misses = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('cache capacity must be a positive integer');
    this.capacity = capacity;
  }

  get size(): number {
    return this.t1.size + this.t2.size;
  }

  /** Sizes of T1, T2, B1, B2 and the target p (tests and metrics). */
  shape(): { t1: number; t2: number; b1: number; b2: number; p: number } {
    return { t1: this.t1.size, t2: this.t2.size, b1: this.b1.size, b2: this.b2.size, p: this.p };
  }

  has(key: K): boolean {
    return this.t1.has(key) || this.t2.has(key);
  }

  /** A hit promotes the key to T2's MRU end; a miss returns undefined and changes nothing. */
  get(key: K): V | undefined {
    if (this.t1.has(key)) {
      const v = this.t1.get(key)!;
      this.t1.delete(key);
      this.t2.set(key, v);
      this.hits++;
      return v;
    }
    if (this.t2.has(key)) {
      const v = this.t2.get(key)!;
      this.t2.delete(key);
      this.t2.set(key, v);
      this.hits++;
      return v;
    }
    this.misses++;
    return undefined;
  }

  /** Inserts after a miss, or updates (and promotes) a resident key. */
  set(key: K, value: V): void {
    const c = this.capacity;
    if (this.t1.has(key)) {
      this.t1.delete(key);
      this.t2.set(key, value);
      return;
    }
    if (this.t2.has(key)) {
      this.t2.delete(key);
      this.t2.set(key, value);
      return;
    }
    if (this.b1.has(key)) {
      // Recency would have hit: grow T1's target.
      this.p = Math.min(c, this.p + Math.max(this.b2.size / this.b1.size, 1));
      this.replace(false);
      this.b1.delete(key);
      this.t2.set(key, value);
      return;
    }
    if (this.b2.has(key)) {
      // Frequency would have hit: shrink T1's target.
      this.p = Math.max(0, this.p - Math.max(this.b1.size / this.b2.size, 1));
      this.replace(true);
      this.b2.delete(key);
      this.t2.set(key, value);
      return;
    }
    const l1 = this.t1.size + this.b1.size;
    if (l1 === c) {
      if (this.t1.size < c) {
        this.b1.delete(first(this.b1)!);
        this.replace(false);
      } else {
        this.t1.delete(first(this.t1)!);
      }
    } else {
      const total = l1 + this.t2.size + this.b2.size;
      if (total >= c) {
        if (total === 2 * c) this.b2.delete(first(this.b2)!);
        this.replace(false);
      }
    }
    this.t1.set(key, value);
  }

  /** Forgets a key entirely (resident or ghost). */
  delete(key: K): void {
    this.t1.delete(key);
    this.t2.delete(key);
    this.b1.delete(key);
    this.b2.delete(key);
  }

  clear(): void {
    this.t1.clear();
    this.t2.clear();
    this.b1.clear();
    this.b2.clear();
    this.p = 0;
  }

  /** Evicts one resident key into its ghost list, from T1 or T2 as the target p says. */
  private replace(hitInB2: boolean): void {
    const t1 = this.t1.size;
    if (t1 > 0 && (t1 > this.p || (hitInB2 && t1 === this.p))) {
      const k = first(this.t1)!;
      this.t1.delete(k);
      this.b1.set(k, true);
    } else if (this.t2.size > 0) {
      const k = first(this.t2)!;
      this.t2.delete(k);
      this.b2.set(k, true);
    } else if (t1 > 0) {
      const k = first(this.t1)!;
      this.t1.delete(k);
      this.b1.set(k, true);
    }
  }
}

function first<K>(m: Map<K, unknown>): K | undefined {
  for (const k of m.keys()) return k;
  return undefined;
}
