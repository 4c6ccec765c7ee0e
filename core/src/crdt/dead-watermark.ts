// Per-slot "dead up to" watermarks. Within one slot (a register, one set element) a
// replica's later dot always superseded its earlier ones, so once (r, n) is removed from
// a slot every dot of r up to n is dead there, including dots still in flight that may
// arrive later and out of order. The watermark says so; it travels with the slot's store
// and is dropped once every known replica holds all of r's dots up to n (then none can
// arrive that it would have to stop).
import type { CausalContext } from '../clock/causal-context.ts';
import type { Dot } from '../clock/dot.ts';
import type { ReplicaId } from '../clock/replica-id.ts';

export type DeadWatermark = Map<ReplicaId, number>;

/** Raises `w` to cover `dots`; returns true if it grew. */
export function raiseWatermark(w: DeadWatermark, dots: readonly Dot[]): boolean {
  let grew = false;
  for (const d of dots) {
    if ((w.get(d.replica) ?? 0) < d.counter) {
      w.set(d.replica, d.counter);
      grew = true;
    }
  }
  return grew;
}

export function mergeWatermark(into: DeadWatermark, from: ReadonlyMap<ReplicaId, number>): boolean {
  let grew = false;
  for (const [replica, counter] of from) {
    if ((into.get(replica) ?? 0) < counter) {
      into.set(replica, counter);
      grew = true;
    }
  }
  return grew;
}

export function isDead(w: ReadonlyMap<ReplicaId, number> | undefined, d: Dot): boolean {
  return w !== undefined && w.size > 0 && d.counter <= (w.get(d.replica) ?? 0);
}

/** Drops entries every replica in `stable` has fully passed. */
export function collectWatermark(w: DeadWatermark, stable: CausalContext): void {
  for (const [replica, counter] of w) if (stable.hasRange(replica, 1, counter)) w.delete(replica);
}
