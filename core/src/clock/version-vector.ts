// A version vector: for each replica, the highest counter up to which every dot was seen.
import type { ReplicaId } from './replica-id.ts';

export const VectorOrder = {
  Equal: 'equal',
  Before: 'before',
  After: 'after',
  Concurrent: 'concurrent',
} as const;
export type VectorOrder = (typeof VectorOrder)[keyof typeof VectorOrder];

export class VersionVector {
  /** Invariant: every value is a positive integer. */
  readonly entries: Map<ReplicaId, number>;

  constructor(entries: Map<ReplicaId, number> = new Map()) {
    this.entries = entries;
  }

  get(replica: ReplicaId): number {
    return this.entries.get(replica) ?? 0;
  }

  /** Raises the entry to `counter` (never lowers it). */
  set(replica: ReplicaId, counter: number): void {
    if (counter > (this.entries.get(replica) ?? 0)) this.entries.set(replica, counter);
  }

  merge(other: VersionVector): void {
    for (const [replica, counter] of other.entries) this.set(replica, counter);
  }

  compare(other: VersionVector): VectorOrder {
    let less = false;
    let greater = false;
    for (const [replica, counter] of this.entries) {
      const theirs = other.get(replica);
      if (counter < theirs) less = true;
      else if (counter > theirs) greater = true;
    }
    for (const [replica, counter] of other.entries) {
      if (!this.entries.has(replica) && counter > 0) less = true;
    }
    if (less && greater) return VectorOrder.Concurrent;
    if (less) return VectorOrder.Before;
    if (greater) return VectorOrder.After;
    return VectorOrder.Equal;
  }

  /** Entry-wise minimum: what every one of `vectors` has seen. */
  static meet(vectors: readonly VersionVector[]): VersionVector {
    const out = new VersionVector();
    if (vectors.length === 0) return out;
    for (const [replica, counter] of vectors[0]!.entries) {
      let min = counter;
      for (let i = 1; i < vectors.length && min > 0; i++) min = Math.min(min, vectors[i]!.get(replica));
      if (min > 0) out.entries.set(replica, min);
    }
    return out;
  }

  clone(): VersionVector {
    return new VersionVector(new Map(this.entries));
  }
}
