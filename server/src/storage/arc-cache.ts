// ARC, the Adaptive Replacement Cache (Megiddo & Modha, FAST 2003). Two resident lists, T1
// (seen once recently) and T2 (seen at least twice), and two ghost lists of evicted keys, B1
// and B2. A hit in a ghost list moves the target size `p` of T1 towards the side that would
// have hit, so the cache adapts between recency and frequency; a one-time scan only churns
// T1 and cannot flush the frequently used keys in T2.
//
// One Map finds a key's entry; each list is an intrusive doubly-linked list of entries,
// LRU -> MRU, so every operation is O(1). (Lists kept as Maps in insertion order, an earlier
// version, cost 12-27 µs per insert once the cache was full: V8 leaves a deleted Map entry
// as a hole until it rehashes, and finding a list's LRU end walks over every hole.)
// Invariants: |T1|+|T2| <= c, |T1|+|B1| <= c, |T1|+|T2|+|B1|+|B2| <= 2c, 0 <= p <= c.

const T1 = 0;
const T2 = 1;
const B1 = 2;
const B2 = 3;
type ListId = typeof T1 | typeof T2 | typeof B1 | typeof B2;

interface Entry<K, V> {
  readonly key: K;
  /** Undefined while the key is a ghost (B1 or B2). */
  value: V | undefined;
  list: ListId;
  prev: Entry<K, V> | null;
  next: Entry<K, V> | null;
}

/** An LRU -> MRU list of entries: `head` is the least recently used. */
class EntryList<K, V> {
  head: Entry<K, V> | null = null;
  tail: Entry<K, V> | null = null;
  size = 0;

  pushMru(e: Entry<K, V>): void {
    e.prev = this.tail;
    e.next = null;
    if (this.tail === null) this.head = e;
    else this.tail.next = e;
    this.tail = e;
    this.size++;
  }

  unlink(e: Entry<K, V>): void {
    if (e.prev === null) this.head = e.next;
    else e.prev.next = e.next;
    if (e.next === null) this.tail = e.prev;
    else e.next.prev = e.prev;
    e.prev = null;
    e.next = null;
    this.size--;
  }

  clear(): void {
    this.head = null;
    this.tail = null;
    this.size = 0;
  }
}

export class ArcCache<K, V> {
  readonly capacity: number;
  private readonly entries = new Map<K, Entry<K, V>>();
  private readonly lists: readonly [EntryList<K, V>, EntryList<K, V>, EntryList<K, V>, EntryList<K, V>] = [
    new EntryList(),
    new EntryList(),
    new EntryList(),
    new EntryList(),
  ];
  /** Target size of T1. */
  private p = 0;
  hits = 0;
  misses = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('cache capacity must be a positive integer');
    this.capacity = capacity;
  }

  get size(): number {
    return this.lists[T1].size + this.lists[T2].size;
  }

  /** Sizes of T1, T2, B1, B2 and the target p (tests and metrics). */
  shape(): { t1: number; t2: number; b1: number; b2: number; p: number } {
    const [t1, t2, b1, b2] = this.lists;
    return { t1: t1.size, t2: t2.size, b1: b1.size, b2: b2.size, p: this.p };
  }

  has(key: K): boolean {
    const e = this.entries.get(key);
    return e !== undefined && e.list <= T2;
  }

  /** A hit promotes the key to T2's MRU end; a miss returns undefined and changes nothing. */
  get(key: K): V | undefined {
    const e = this.entries.get(key);
    if (e === undefined || e.list > T2) {
      this.misses++;
      return undefined;
    }
    this.move(e, T2);
    this.hits++;
    return e.value;
  }

  /** Inserts after a miss, or updates (and promotes) a resident key. */
  set(key: K, value: V): void {
    const c = this.capacity;
    const [t1, t2, b1, b2] = this.lists;
    const e = this.entries.get(key);
    if (e !== undefined) {
      if (e.list === B1) {
        // Recency would have hit: grow T1's target.
        this.p = Math.min(c, this.p + Math.max(b2.size / b1.size, 1));
        this.replace(false);
      } else if (e.list === B2) {
        // Frequency would have hit: shrink T1's target.
        this.p = Math.max(0, this.p - Math.max(b1.size / b2.size, 1));
        this.replace(true);
      }
      e.value = value;
      this.move(e, T2);
      return;
    }
    const l1 = t1.size + b1.size;
    if (l1 === c) {
      if (t1.size < c) {
        this.forget(b1.head!);
        this.replace(false);
      } else {
        this.forget(t1.head!);
      }
    } else {
      const total = l1 + t2.size + b2.size;
      if (total >= c) {
        if (total === 2 * c) this.forget(b2.head!);
        this.replace(false);
      }
    }
    const fresh: Entry<K, V> = { key, value, list: T1, prev: null, next: null };
    this.entries.set(key, fresh);
    t1.pushMru(fresh);
  }

  /** Forgets a key entirely (resident or ghost). */
  delete(key: K): void {
    const e = this.entries.get(key);
    if (e !== undefined) this.forget(e);
  }

  clear(): void {
    this.entries.clear();
    for (const l of this.lists) l.clear();
    this.p = 0;
  }

  /** Evicts one resident key into its ghost list, from T1 or T2 as the target p says. */
  private replace(hitInB2: boolean): void {
    const t1 = this.lists[T1];
    const t2 = this.lists[T2];
    if (t1.size > 0 && (t1.size > this.p || (hitInB2 && t1.size === this.p))) this.evict(t1.head!, B1);
    else if (t2.size > 0) this.evict(t2.head!, B2);
    else if (t1.size > 0) this.evict(t1.head!, B1);
  }

  private evict(e: Entry<K, V>, ghost: typeof B1 | typeof B2): void {
    e.value = undefined;
    this.move(e, ghost);
  }

  /** Moves an entry to the MRU end of `list` (its own list too). */
  private move(e: Entry<K, V>, list: ListId): void {
    this.lists[e.list].unlink(e);
    e.list = list;
    this.lists[list].pushMru(e);
  }

  private forget(e: Entry<K, V>): void {
    this.lists[e.list].unlink(e);
    this.entries.delete(e.key);
  }
}
