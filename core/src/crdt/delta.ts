// A delta: what one replica tells another. `context` holds every dot the delta speaks
// for (the dots of its store, of its removals, and dots the sender saw and no longer
// holds); `store` the live part; `removals` what was removed of dots the receiver may
// still hold. A delta from `deltaSince` and a delta from one local op have this one shape.
import { CausalContext } from '../clock/causal-context.ts';
import type { DotStore, RemovalEntry } from './dot-store.ts';

export class Delta<S extends DotStore = DotStore> {
  readonly context: CausalContext;
  readonly store: S | undefined;
  readonly removals: readonly RemovalEntry[];
  /**
   * Decoded from a state snapshot: its texts and lists are in state form, so encoding it as
   * a delta converts them (codec/delta/encoder.ts). Every other delta skips that work.
   */
  readonly fromStateSnapshot: boolean;

  constructor(context: CausalContext, store: S | undefined, removals: readonly RemovalEntry[], fromStateSnapshot = false) {
    this.context = context;
    this.store = store;
    this.removals = removals;
    this.fromStateSnapshot = fromStateSnapshot;
  }

  get isEmpty(): boolean {
    return this.context.isEmpty;
  }

  static empty<S extends DotStore>(): Delta<S> {
    return new Delta<S>(new CausalContext(), undefined, []);
  }
}
