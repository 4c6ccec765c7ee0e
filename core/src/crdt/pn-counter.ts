// Positive-negative counter: increments and decrements kept apart per replica, so each
// replica's contribution only grows and merges by taking the newer one.
import type { Dot } from '../clock/dot.ts';
import type { ReplicaId } from '../clock/replica-id.ts';
import { InvalidArgumentError } from '../errors.ts';
import { CausalCrdt } from './causal-crdt.ts';
import { CounterStore } from './counter-store.ts';
import type { Delta } from './delta.ts';
import { addToCounter } from './g-counter.ts';

export class PNCounter extends CausalCrdt<CounterStore> {
  private readonly seen: Dot[] = [];

  constructor(replica: ReplicaId) {
    super(replica, new CounterStore());
  }

  /** Adds `by` (a safe integer, negative to decrement; default 1). */
  increment(by = 1): Delta<CounterStore> {
    if (!Number.isSafeInteger(by)) throw new InvalidArgumentError(`counter change must be a safe integer, got ${by}`);
    return addToCounter(this, by, this.seen);
  }

  decrement(by = 1): Delta<CounterStore> {
    return this.increment(-by);
  }

  get value(): number {
    return this.store.value();
  }
}
