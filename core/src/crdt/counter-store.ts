// Counter dot store: one contribution per replica, each held at that replica's latest dot.
// A replica's contributions are cumulative, so its newer dot replaces its older one
// (join rule 2).
//
// Removing a counter (deleting a map key) must remove only what the remover observed. A
// replica that increments concurrently builds on its old cumulative total, so the
// removal leaves a *base* per replica: the cumulative amounts it removed, subtracted from
// any later contribution of that replica. Bases only grow (max by counter), so they
// join like everything else, and they travel with the counter's store (they are never
// garbage-collected; see collectGarbage).
import type { CausalContext } from '../clock/causal-context.ts';
import { type Dot, dot } from '../clock/dot.ts';
import type { ReplicaId } from '../clock/replica-id.ts';
import { coveredBy, CrdtType, type DotStore, type RemovedSlot } from './dot-store.ts';

export class CounterContribution {
  readonly counter: number;
  readonly inc: number;
  readonly dec: number;
  constructor(counter: number, inc: number, dec: number) {
    this.counter = counter;
    this.inc = inc;
    this.dec = dec;
  }
}

export class CounterStore implements DotStore {
  readonly type = CrdtType.Counter;
  /** Live contributions. Invariant: entries.get(r).counter > bases.get(r).counter. */
  readonly entries: Map<ReplicaId, CounterContribution>;
  /** Removed cumulative amounts per replica (see the header). */
  readonly bases: Map<ReplicaId, CounterContribution>;

  constructor(entries: Map<ReplicaId, CounterContribution> = new Map(), bases: Map<ReplicaId, CounterContribution> = new Map()) {
    this.entries = entries;
    this.bases = bases;
  }

  isEmpty(): boolean {
    return this.entries.size === 0;
  }

  isDisposable(): boolean {
    return this.entries.size === 0 && this.bases.size === 0;
  }

  value(): number {
    let v = 0;
    for (const [replica, e] of this.entries) {
      const b = this.bases.get(replica);
      v += b === undefined ? e.inc - e.dec : e.inc - b.inc - (e.dec - b.dec);
    }
    return v;
  }

  /** Sum of increments only (the GCounter view). */
  increments(): number {
    let v = 0;
    for (const [replica, e] of this.entries) v += e.inc - (this.bases.get(replica)?.inc ?? 0);
    return v;
  }

  /**
   * Applies a local change of `by` at the fresh dot (replica, counter) and returns the
   * delta store; `superseded` receives the replaced dot, if any.
   */
  add(replica: ReplicaId, counter: number, by: number, superseded: Dot[]): CounterStore {
    const old = this.entries.get(replica) ?? this.bases.get(replica);
    let inc = by > 0 ? by : 0;
    let dec = by < 0 ? -by : 0;
    if (old !== undefined) {
      if (this.entries.has(replica)) superseded.push(dot(replica, old.counter));
      inc += old.inc;
      dec += old.dec;
    }
    const next = new CounterContribution(counter, inc, dec);
    this.entries.set(replica, next);
    const part = new Map<ReplicaId, CounterContribution>();
    part.set(replica, next);
    const base = this.bases.get(replica);
    if (base === undefined) return new CounterStore(part, NO_BASES);
    const bases = new Map<ReplicaId, CounterContribution>();
    bases.set(replica, base);
    return new CounterStore(part, bases);
  }

  join(incoming: DotStore, ctx: CausalContext): boolean {
    const other = incoming as CounterStore;
    let changed = false;
    for (const [replica, b] of other.bases) if (this.raiseBase(replica, b)) changed = true;
    for (const [replica, e] of other.entries) {
      if (ctx.has(replica, e.counter)) continue;
      const mine = this.entries.get(replica);
      if (mine !== undefined && mine.counter >= e.counter) continue;
      const base = this.bases.get(replica);
      if (base !== undefined && base.counter >= e.counter) continue;
      this.entries.set(replica, e);
      changed = true;
    }
    return changed;
  }

  /** Removes the observed contributions among `removed`, keeping their amounts as bases. */
  remove(slot: RemovedSlot): boolean {
    const removed = slot.dots;
    let changed = false;
    for (const [replica, e] of this.entries) {
      if (coveredBy(removed, dot(replica, e.counter))) {
        this.raiseBase(replica, e);
        changed = true;
      }
    }
    return changed;
  }

  /** Raises a replica's base; drops its live contribution if the base covers it. */
  raiseBase(replica: ReplicaId, b: CounterContribution): boolean {
    const old = this.bases.get(replica);
    if (old !== undefined && old.counter >= b.counter) return false;
    this.bases.set(replica, b);
    const live = this.entries.get(replica);
    if (live !== undefined && live.counter <= b.counter) this.entries.delete(replica);
    return true;
  }

  since(ctx: CausalContext): CounterStore | undefined {
    let out: Map<ReplicaId, CounterContribution> | undefined;
    for (const [replica, e] of this.entries) {
      if (ctx.has(replica, e.counter)) continue;
      out ??= new Map();
      out.set(replica, e);
    }
    // Bases always travel: a receiver holding a contribution that a
    // removal covered must subtract them, whatever else it has seen.
    if (out === undefined && this.bases.size === 0) return undefined;
    return new CounterStore(out ?? new Map(), new Map(this.bases));
  }

  /**
   * Bases are never collected. A replica that incremented concurrently with a removal keeps
   * building its cumulative contribution on the removed amounts, and such a contribution may
   * arrive anywhere at any later time: only the base keeps it from counting them twice. The
   * cost is one small record per replica whose contribution to this counter was removed.
   */
  collectGarbage(): void {}

  collectDots(out: Dot[]): void {
    for (const [replica, e] of this.entries) out.push(dot(replica, e.counter));
  }

  collectSlots(prefix: readonly string[], out: RemovedSlot[]): void {
    if (this.entries.size === 0) return;
    const dots: Dot[] = [];
    this.collectDots(dots);
    out.push({ path: prefix, dots, type: this.type });
  }

  clone(): CounterStore {
    return new CounterStore(new Map(this.entries), new Map(this.bases));
  }
}

/** Shared by delta stores with no bases (deltas are never mutated). */
const NO_BASES: Map<ReplicaId, CounterContribution> = new Map();
