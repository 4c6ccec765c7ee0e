// Text and list values in a map or the Replica's keyspace: the sequence CRDT (text/) seen
// as a dot store. A store is in one of two modes, like every other store type: *state*
// (`seq`, the replica's own sequence) or *delta* (`delta`, what travels). Joining a delta
// hands it to Sequence.apply, which integrates what it can, keeps items whose origins have
// not arrived in its pending buffer, and records the patches for the change events.
//
// Removing a text or list (deleting its key) deletes, for each replica, every element up
// to the newest one the remover saw: a slot's dots are that replica's runs, and the
// sequence delivers a replica's runs in order, so "up to n" is what the remover observed.
import { CausalContext as Context, type CausalContext } from '../clock/causal-context.ts';
import { type Dot, dot } from '../clock/dot.ts';
import type { ReplicaId } from '../clock/replica-id.ts';
import type { JsonValue } from '../codec/json-value.ts';
import { AssertionError } from '../errors.ts';
import { type ContentKind, listKind, textKind } from '../text/content.ts';
import { type DeltaItem, type DotClock, type Patch, PatchKind, type SequenceDelta } from '../text/delta.ts';
import { markIdsDeleted } from '../text/integrate.ts';
import { first, next } from '../text/position-tree.ts';
import { Sequence } from '../text/sequence.ts';
import { CrdtType, type DotStore, type RemovedSlot } from './dot-store.ts';

export type SequenceType = typeof CrdtType.Text | typeof CrdtType.List;

export class SequenceStore<C> implements DotStore {
  readonly type: SequenceType;
  readonly kind: ContentKind<C>;
  /** State mode: the sequence. Invariant: exactly one of `seq` and `delta` is set. */
  seq: Sequence<C> | undefined;
  /** Delta mode: what one replica tells another. */
  readonly delta: SequenceDelta<C> | undefined;
  /** Patches made by the last join, for change events (taken by the Replica). */
  patches: Patch<C>[];
  /**
   * State mode: exactly the dots the sequence integrated (items and delete ops). Not the
   * owner's context, which also names items still pending (it joins whole delta
   * contexts): the sequence must tell "integrated" from "seen".
   */
  readonly integrated: CausalContext;

  private constructor(type: SequenceType, kind: ContentKind<C>, seq: Sequence<C> | undefined, delta: SequenceDelta<C> | undefined) {
    this.type = type;
    this.kind = kind;
    this.seq = seq;
    this.delta = delta;
    this.patches = [];
    this.integrated = new Context();
  }

  static empty(type: SequenceType): SequenceStore<string> | SequenceStore<JsonValue[]> {
    return type === CrdtType.Text
      ? new SequenceStore<string>(type, textKind, new Sequence<string>(0 as ReplicaId, textKind), undefined)
      : new SequenceStore<JsonValue[]>(type, listKind, new Sequence<JsonValue[]>(0 as ReplicaId, listKind), undefined);
  }

  static ofDelta<C>(type: SequenceType, kind: ContentKind<C>, delta: SequenceDelta<C>): SequenceStore<C> {
    return new SequenceStore<C>(type, kind, undefined, delta);
  }

  /**
   * A decoded state (a state snapshot): `dots` are what the sequence holds, `pending` the
   * items that were still waiting for their origins when it was written.
   */
  static ofState<C>(type: SequenceType, kind: ContentKind<C>, seq: Sequence<C>, dots: CausalContext, pending: readonly DeltaItem<C>[]): SequenceStore<C> {
    const store = new SequenceStore<C>(type, kind, seq, undefined);
    store.integrated.merge(dots);
    if (pending.length > 0) seq.apply({ items: pending.slice(), deleteDots: new Context(), deletedIds: new Context() }, store.integrated);
    return store;
  }

  /** The state-mode sequence, attributed to `replica` for local edits. */
  sequenceFor(replica: ReplicaId): Sequence<C> {
    const seq = this.state();
    if (seq.localReplica !== replica) this.seq = seq.clone(replica);
    return this.seq!;
  }

  state(): Sequence<C> {
    if (this.seq === undefined) throw new AssertionError('a delta-mode sequence store has no state');
    return this.seq;
  }

  isEmpty(): boolean {
    return this.seq === undefined ? this.delta!.items.length === 0 : this.seq.length === 0;
  }

  isDisposable(): boolean {
    if (this.seq === undefined) return this.delta!.items.length === 0 && this.delta!.deleteDots.isEmpty;
    const seq = this.seq;
    return seq.root === null && seq.pending.length === 0 && seq.log.recordCount === 0 && seq.pendingDeletes.isEmpty;
  }

  join(incoming: DotStore): boolean {
    const other = incoming as SequenceStore<C>;
    if (other.seq !== undefined && this.isDisposable() && this.integrated.isEmpty) return this.adopt(other);
    // A whole state (merge) joins as the delta of everything we have not integrated.
    let delta = other.delta ?? other.since(this.integrated)?.delta;
    if (delta === undefined) return false;
    const seq = this.state();
    if (seq.pending.length > 0) {
      // Items already waiting for their origins must not queue twice.
      const waiting = new Set(seq.pending.map((p) => `${p.replica}:${p.counter}:${p.length}`));
      const items = delta.items.filter((p) => !waiting.has(`${p.replica}:${p.counter}:${p.length}`));
      if (items.length !== delta.items.length) delta = { items, deleteDots: delta.deleteDots, deletedIds: delta.deletedIds };
    }
    this.patches = seq.apply(delta, this.integrated);
    return this.patches.length > 0;
  }

  /**
   * Joining a whole state into an empty store (loading a snapshot) copies it instead of
   * integrating it item by item: the same result, in time linear in its chunks.
   */
  private adopt(other: SequenceStore<C>): boolean {
    const seq = other.state();
    this.seq = seq.clone(this.seq?.localReplica ?? seq.localReplica);
    this.integrated.merge(other.integrated);
    const content = seq.content();
    let all: C | undefined;
    for (const c of content) all = all === undefined ? this.kind.own(c) : this.kind.append(all, c);
    this.patches = all === undefined ? [] : [{ kind: PatchKind.Insert, index: 0, content: all }];
    return this.patches.length > 0;
  }

  remove(slot: RemovedSlot): boolean {
    const removed = slot.dots;
    const seq = this.state();
    const before = seq.length;
    const patches: Patch<C>[] = [];
    // Ids not arrived yet are remembered as deleted (they may be in flight).
    for (const d of removed) markIdsDeleted(seq, d.replica, 1, d.counter, patches, true);
    this.patches = patches;
    return seq.length !== before;
  }

  since(ctx: CausalContext): SequenceStore<C> | undefined {
    const seq = this.state();
    let d = seq.since(ctx);
    // Items still waiting for their origins are part of the state: the owner's context
    // already names their dots (it joins a delta's whole context), so a peer can only get
    // them from here.
    for (const p of seq.pending) {
      if (ctx.hasRange(p.replica, p.counter, p.counter + p.length - 1)) continue;
      d ??= { items: [], deleteDots: new Context(), deletedIds: new Context() };
      d.items.push(p);
    }
    return d === undefined ? undefined : SequenceStore.ofDelta(this.type, this.kind, d);
  }

  /** Per replica, its newest live element: what a removal of this value observed. */
  collectDots(out: Dot[]): void {
    const newest = new Map<ReplicaId, number>();
    for (let c = first(this.state()); c !== null; c = next(c)) {
      if (c.deleted) continue;
      const last = c.counter + c.length - 1;
      if ((newest.get(c.replica) ?? 0) < last) newest.set(c.replica, last);
    }
    for (const [replica, counter] of newest) out.push(dot(replica, counter));
  }

  collectSlots(prefix: readonly string[], out: RemovedSlot[]): void {
    const dots: Dot[] = [];
    this.collectDots(dots);
    if (dots.length > 0) out.push({ path: prefix, dots, type: this.type });
  }

  clone(): SequenceStore<C> {
    if (this.seq === undefined) return this;
    const out = new SequenceStore<C>(this.type, this.kind, this.seq.clone(this.seq.localReplica), undefined);
    out.integrated.merge(this.integrated);
    return out;
  }

  collectGarbage(stable: CausalContext): void {
    this.seq?.collectGarbage(stable);
  }

  /**
   * Local edits draw counters from the owner's context through this clock; what they
   * draw is integrated at once, and collected in `used` (the delta's context).
   */
  clockFor(ctx: CausalContext, replica: ReplicaId, used: CausalContext): DotClock {
    const integrated = this.integrated;
    return {
      next(count: number): number {
        const first = ctx.max(replica) + 1;
        const last = first + count - 1;
        ctx.addRange(replica, first, last);
        used.addRange(replica, first, last);
        integrated.addRange(replica, first, last);
        return first;
      },
    };
  }
}
