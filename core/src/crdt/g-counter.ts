// Grow-only counter: each replica's increments summed. A delta is that replica's new total.
import type { ReplicaId } from '../clock/replica-id.ts';
import { InvalidArgumentError } from '../errors.ts';
import { CausalCrdt } from './causal-crdt.ts';
import { CounterStore } from './counter-store.ts';
import type { Delta } from './delta.ts';
import type { Dot } from '../clock/dot.ts';

export class GCounter extends CausalCrdt<CounterStore> {
  private readonly seen: Dot[] = [];

  constructor(replica: ReplicaId) {
    super(replica, new CounterStore());
  }

  /** Adds `by` (a non-negative safe integer; default 1). */
  increment(by = 1): Delta<CounterStore> {
    if (!Number.isSafeInteger(by) || by < 0) throw new InvalidArgumentError(`GCounter increment must be a non-negative integer, got ${by}`);
    return addToCounter(this, by, this.seen);
  }

  get value(): number {
    return this.store.increments();
  }
}

/** Shared by GCounter and PNCounter: one local change of `by`, returned as a delta. */
export function addToCounter(crdt: CausalCrdt<CounterStore>, by: number, scratch: Dot[]): Delta<CounterStore> {
  const d = crdt.nextDot();
  // At most one dot is superseded (this replica's previous one); reuse one slot for it
  // rather than truncating the array on every call (`length = 0` is a slow builtin).
  const part = crdt.store.add(d.replica, d.counter, by, scratch);
  const superseded = scratch.length === 0 ? NONE : scratch;
  const delta = crdt.localDelta(d, part, superseded);
  if (scratch.length !== 0) scratch.pop();
  return delta;
}

const NONE: readonly Dot[] = [];
