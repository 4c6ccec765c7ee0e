// A dot store with its causal context and removal log: a complete delta-state CRDT.
// The standalone types (ORSet, PNCounter, ...) and the Replica's keyspace are each one
// of these. All the join logic for deltas lives here, once.
import { CausalContext } from '../clock/causal-context.ts';
import { type Dot, dot } from '../clock/dot.ts';
import type { ReplicaId } from '../clock/replica-id.ts';
import { Delta } from './delta.ts';
import { type DotStore, marksSeen, type RemovalEntry, type RemovedSlot } from './dot-store.ts';
import { MapStore } from './map-store.ts';
import { RemovalLog } from './removal-log.ts';

export class CausalCrdt<S extends DotStore> {
  readonly replica: ReplicaId;
  readonly store: S;
  /** Invariant: holds every dot of `store` and of every removal in `removals`. */
  readonly context: CausalContext;
  readonly removals: RemovalLog;

  constructor(replica: ReplicaId, store: S) {
    this.replica = replica;
    this.store = store;
    this.context = new CausalContext();
    this.removals = new RemovalLog();
  }

  /** Claims the next dot of this replica. */
  nextDot(): Dot {
    const counter = this.context.max(this.replica) + 1;
    this.context.add(this.replica, counter);
    return dot(this.replica, counter);
  }

  /**
   * Packages a local op, already applied to the store, as a delta. `fresh` is the op's new
   * dot and `seen` the dots it replaced (they go into the delta's context, so they are
   * skipped wherever they arrive later). `removed` names slots whose dots a receiver may
   * still hold and must drop: kept in the removal log too, to travel transitively.
   */
  localDelta(fresh: Dot, store: S | undefined, seen: readonly Dot[], removed?: readonly RemovedSlot[]): Delta<S> {
    const ctx = new CausalContext();
    // Older dots first: a context grows fastest appended to in order.
    for (const d of seen) ctx.addDot(d);
    ctx.addDot(fresh);
    const removals: RemovalEntry[] = [];
    const slots = removed?.filter((slot) => slot.dots.length > 0);
    if (slots !== undefined && slots.length > 0) {
      const entry: RemovalEntry = { op: fresh, slots };
      for (const slot of slots) if (marksSeen(slot)) for (const d of slot.dots) ctx.addDot(d);
      this.removals.add(entry);
      removals.push(entry);
    }
    this.carryRemovals(ctx, removals);
    return new Delta(ctx, store, removals);
  }

  /**
   * Invariant of every delta: if its context names the op of a removal record we keep,
   * the record travels with it. A receiver treats an op already in its context as
   * applied, so a context entry without its record would lose the removal there.
   */
  private carryRemovals(ctx: CausalContext, removals: RemovalEntry[]): void {
    if (this.removals.size === removals.length) return; // nothing kept beyond this op's own record
    const work: Dot[] = [];
    for (const [replica, set] of ctx.entries) {
      const r = set.ranges;
      for (let i = 0; i < r.length; i += 2) for (let c = r[i]!; c <= r[i + 1]!; c++) work.push(dot(replica, c));
    }
    const carried = new Set<RemovalEntry>(removals);
    while (work.length > 0) {
      const d = work.pop()!;
      const entry = this.removals.get(d.replica, d.counter);
      if (entry === undefined || carried.has(entry)) continue;
      carried.add(entry);
      removals.push(entry);
      for (const slot of entry.slots) {
        if (!marksSeen(slot)) continue;
        for (const x of slot.dots) {
          if (!ctx.hasDot(x)) ctx.addDot(x);
          work.push(x);
        }
      }
    }
  }

  /**
   * Joins a delta (from a local op elsewhere, `deltaSince`, or a whole state). Applying
   * the same deltas in any order, any number of times, gives the same state. Names of
   * top-level map fields whose value changed are added to `changed` when given.
   */
  applyDelta(delta: Delta<S>, changed?: Set<string>): boolean {
    let any = false;
    const ctx = this.context;
    // Which records are new is decided against the context from before this delta: one
    // record's removed dots may be another record's op.
    const fresh = delta.removals.filter((e) => !ctx.has(e.op.replica, e.op.counter));
    for (const entry of fresh) {
      this.removals.add(entry);
      for (const slot of entry.slots) {
        if (this.store.remove(slot, -1)) {
          any = true;
          if (changed !== undefined && slot.path.length > 0) changed.add(slot.path[0]!);
        }
      }
    }
    // Removed dots that have not arrived yet must be skipped when they do. Ops' own dots
    // join the context only at the end: a write's new value carries its op's dot.
    for (const entry of fresh) for (const slot of entry.slots) if (marksSeen(slot)) for (const d of slot.dots) ctx.addDot(d);
    if (delta.store !== undefined) {
      if (changed !== undefined && this.store instanceof MapStore) {
        for (const [name, stores] of (delta.store as unknown as MapStore).fields) {
          if (this.store.joinField(name, stores, ctx)) {
            changed.add(name);
            any = true;
          }
        }
      } else if (this.store.join(delta.store, ctx)) {
        any = true;
      }
    }
    ctx.merge(delta.context);
    return any;
  }

  /** What a replica whose context is `ctx` lacks. */
  deltaSince(ctx: CausalContext): Delta<S> {
    return new Delta(this.context.subtract(ctx), this.store.since(ctx) as S | undefined, this.removals.since(ctx));
  }

  /**
   * Joins another replica's whole state. Equal to applying `other.deltaSince(nothing)`,
   * without building that copy first: joins never keep incoming objects.
   */
  merge(other: CausalCrdt<S>): boolean {
    return this.applyDelta(new Delta(other.context, other.store, other.removals.all()));
  }

  /**
   * Drops removal records every known replica has seen. `stable` must be a context that
   * every replica that may still sync with this one has reached (for example the meet of
   * their acknowledged contexts); a replica that falls behind it needs a full state.
   */
  collectGarbage(stable: CausalContext): number {
    this.store.collectGarbage(stable, this.context);
    return this.removals.collectGarbage(stable);
  }
}
