// A causal context: every dot a replica has seen, kept per replica as a RangeSet. Dots
// seen in order compact into one range starting at 1 (the version vector); gaps left by
// out-of-order delivery are the "dot cloud" and close up as the missing dots arrive.
import { RangeSet } from './range-set.ts';
import type { Dot } from './dot.ts';
import type { ReplicaId } from './replica-id.ts';
import { VersionVector } from './version-vector.ts';

export class CausalContext {
  /** Invariant: no entry holds an empty RangeSet. */
  readonly entries: Map<ReplicaId, RangeSet>;

  /** Lookup cache for has(); reset whenever `entries` gains or loses a replica. */
  private lastReplica = 0;
  private lastSet: RangeSet | undefined = undefined;

  constructor(entries: Map<ReplicaId, RangeSet> = new Map()) {
    this.entries = entries;
  }

  static fromVersionVector(vv: VersionVector): CausalContext {
    const ctx = new CausalContext();
    for (const [replica, counter] of vv.entries) if (counter > 0) ctx.addRange(replica, 1, counter);
    return ctx;
  }

  get isEmpty(): boolean {
    return this.entries.size === 0;
  }

  has(replica: ReplicaId, counter: number): boolean {
    // Lookups come in runs for one replica (a delta from one writer): remember the last.
    let set: RangeSet | undefined;
    if (replica === this.lastReplica) set = this.lastSet;
    else {
      set = this.entries.get(replica);
      // Only hits are cached: a replica's RangeSet object never changes once added.
      if (set !== undefined) {
        this.lastReplica = replica;
        this.lastSet = set;
      }
    }
    return set !== undefined && set.has(counter);
  }

  hasDot(d: Dot): boolean {
    return this.has(d.replica, d.counter);
  }

  hasRange(replica: ReplicaId, start: number, end: number): boolean {
    const set = this.entries.get(replica);
    return set !== undefined && set.hasRange(start, end);
  }

  add(replica: ReplicaId, counter: number): void {
    let set = this.entries.get(replica);
    if (set === undefined) {
      set = new RangeSet();
      this.entries.set(replica, set);
      this.lastReplica = 0;
    }
    set.add(counter);
  }

  addDot(d: Dot): void {
    this.add(d.replica, d.counter);
  }

  addRange(replica: ReplicaId, start: number, end: number): void {
    let set = this.entries.get(replica);
    if (set === undefined) {
      set = new RangeSet();
      this.entries.set(replica, set);
      this.lastReplica = 0;
    }
    set.addRange(start, end);
  }

  /** The highest counter seen from `replica` (0 if none). */
  max(replica: ReplicaId): number {
    const set = this.entries.get(replica);
    return set === undefined ? 0 : set.max;
  }

  merge(other: CausalContext): void {
    for (const [replica, set] of other.entries) {
      const mine = this.entries.get(replica);
      if (mine === undefined) {
        this.entries.set(replica, set.clone());
        this.lastReplica = 0;
      } else mine.addAll(set);
    }
  }

  /** Dots in this context that `other` lacks. */
  subtract(other: CausalContext): CausalContext {
    const out = new CausalContext();
    for (const [replica, set] of this.entries) {
      const theirs = other.entries.get(replica);
      const diff = theirs === undefined ? set.clone() : set.subtract(theirs);
      if (!diff.isEmpty) out.entries.set(replica, diff);
    }
    return out;
  }

  /** Dots present in both contexts. */
  intersect(other: CausalContext): CausalContext {
    const out = new CausalContext();
    for (const [replica, set] of this.entries) {
      const theirs = other.entries.get(replica);
      if (theirs === undefined) continue;
      const both = set.intersect(theirs);
      if (!both.isEmpty) out.entries.set(replica, both);
    }
    return out;
  }

  /** True when every dot of `other` is in this context. */
  includes(other: CausalContext): boolean {
    return other.subtract(this).isEmpty;
  }

  equals(other: CausalContext): boolean {
    if (this.entries.size !== other.entries.size) return false;
    for (const [replica, set] of this.entries) {
      const theirs = other.entries.get(replica);
      if (theirs === undefined || !set.equals(theirs)) return false;
    }
    return true;
  }

  /** The contiguous prefix of every replica: what a version vector can say. */
  versionVector(): VersionVector {
    const vv = new VersionVector();
    for (const [replica, set] of this.entries) {
      const n = set.contiguousMax;
      if (n > 0) vv.set(replica, n);
    }
    return vv;
  }

  clone(): CausalContext {
    const out = new CausalContext();
    for (const [replica, set] of this.entries) out.entries.set(replica, set.clone());
    return out;
  }

  /** Number of dots. */
  get size(): number {
    let n = 0;
    for (const set of this.entries.values()) n += set.size;
    return n;
  }
}
