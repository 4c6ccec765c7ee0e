// The shared shape of every CRDT in the core: a dot store (Almeida, Shoker, Baquero,
// "Delta state replicated data types", 2018). A store holds live dots with payloads; the
// causal context that says which dots were seen lives outside it (in a CausalCrdt or the
// Replica), so stores nest: a map's fields are stores of any type sharing one context.
//
// The join rules every store follows, given our context C before an incoming delta:
//  1. An incoming dot already in C is skipped: we hold it already, or it was removed here.
//  2. Within one slot (a register, a counter, one set element), a newer dot of a replica
//     supersedes that replica's older dot: a replica's own ops on a slot are sequential.
//  3. Removals of other replicas' dots travel as RemovalEntry records (below), never as
//     "missing from the store": so a delta may carry only part of a store.
import type { CausalContext } from '../clock/causal-context.ts';
import type { Dot } from '../clock/dot.ts';

export const CrdtType = {
  Register: 1,
  Counter: 2,
  Set: 3,
  Map: 4,
  Text: 5,
  List: 6,
} as const;
export type CrdtType = (typeof CrdtType)[keyof typeof CrdtType];

export const CRDT_TYPE_NAMES: Record<CrdtType, 'register' | 'counter' | 'set' | 'map' | 'text' | 'list'> = {
  1: 'register',
  2: 'counter',
  3: 'set',
  4: 'map',
  5: 'text',
  6: 'list',
};
export type CrdtTypeName = (typeof CRDT_TYPE_NAMES)[CrdtType];

/**
 * One slot a removal reached: a register, a counter, or one set element, named by its
 * path (map field names, then the set element key), and the dots observed there.
 * Removing (r, n) from a slot removes every dot of r up to n in that slot: r's later dot
 * in a slot always superseded its earlier ones there.
 */
export interface RemovedSlot {
  readonly path: readonly string[];
  readonly dots: readonly Dot[];
  /**
   * Type of the store that owns the slot. A replica that does not hold that store yet
   * creates it, so the removal is remembered for dots still in flight.
   */
  readonly type: CrdtType;
}

/**
 * Whether a removal marks the slot's dots as seen. Not for texts and lists: their items
 * must still arrive (as tombstones they anchor later inserts), and the sequence
 * remembers the removal as pending deletes instead.
 */
export function marksSeen(slot: RemovedSlot): boolean {
  return slot.type !== CrdtType.Text && slot.type !== CrdtType.List;
}

/** Index in a slot's path of the name of the store that owns it (-1: the root store). */
export function slotStoreDepth(slot: RemovedSlot): number {
  return slot.path.length - (slot.type === CrdtType.Set ? 2 : 1);
}

/**
 * A removal: the op with dot `op` removed what it observed in `slots`. Kept in a log so
 * that `deltaSince` can tell a replica that still holds those dots; dropped by
 * `collectGarbage` once every known replica has seen `op`.
 */
export interface RemovalEntry {
  readonly op: Dot;
  readonly slots: readonly RemovedSlot[];
}

/** True when `d` is covered by a removal of `removed` in the same slot (same replica, not newer). */
export function coveredBy(removed: readonly Dot[], d: Dot): boolean {
  for (let i = 0; i < removed.length; i++) {
    const x = removed[i]!;
    if (x.replica === d.replica && d.counter <= x.counter) return true;
  }
  return false;
}

export interface DotStore {
  readonly type: CrdtType;
  /** True when the store holds no live dot (its value is absent). */
  isEmpty(): boolean;
  /** True when the store holds nothing at all worth keeping (no dots, no metadata). */
  isDisposable(): boolean;
  /** Joins an incoming store of the same type (rules 1 and 2). Returns true if the value changed. */
  join(incoming: DotStore, ctx: CausalContext): boolean;
  /**
   * Applies a removal to a slot at or below this store. `depth` is the index in
   * `slot.path` of the name that reached this store (-1 for a root store), so what lies
   * below starts at `slot.path[depth + 1]`. Returns true if the value changed.
   */
  remove(slot: RemovedSlot, depth: number): boolean;
  /** The part of this store whose dots are not in `ctx`, or undefined if there is none. */
  since(ctx: CausalContext): DotStore | undefined;
  /** Appends every live dot to `out`. */
  collectDots(out: Dot[]): void;
  /** Appends every non-empty slot with its live dots, paths prefixed by `prefix`. */
  collectSlots(prefix: readonly string[], out: RemovedSlot[]): void;
  /** A deep copy. */
  clone(): DotStore;
  /** Drops metadata that every replica in `stable` no longer needs (`ctx`: our context). */
  collectGarbage(stable: CausalContext, ctx: CausalContext): void;
}
