// Map dot store (observed-remove map with nested CRDT values). Each field holds one store
// per CRDT type (almost always exactly one; two only after concurrent creations of
// different types under one name, which must not lose either side's data). Removing a
// field removes the dots the remover observed anywhere beneath it; updates made
// concurrently keep their dots and so survive. The Replica's keyspace is one of these.
import type { CausalContext } from '../clock/causal-context.ts';
import type { Dot } from '../clock/dot.ts';
import { CrdtType, type DotStore, type RemovedSlot, slotStoreDepth } from './dot-store.ts';
import { createEmptyStore } from './empty-store.ts';

export class MapStore implements DotStore {
  readonly type = CrdtType.Map;
  /** Invariant: no field maps to an empty list, and no listed store is disposable. */
  readonly fields: Map<string, DotStore[]>;

  constructor(fields: Map<string, DotStore[]> = new Map()) {
    this.fields = fields;
  }

  isEmpty(): boolean {
    for (const stores of this.fields.values()) for (const s of stores) if (!s.isEmpty()) return false;
    return true;
  }

  isDisposable(): boolean {
    return this.fields.size === 0;
  }

  /** Names of fields with a visible value. */
  *names(): IterableIterator<string> {
    for (const [name, stores] of this.fields) {
      for (const s of stores) {
        if (!s.isEmpty()) {
          yield name;
          break;
        }
      }
    }
  }

  collectGarbage(stable: CausalContext, ctx: CausalContext): void {
    for (const [name, stores] of this.fields) {
      for (const s of stores) s.collectGarbage(stable, ctx);
      this.prune(name);
    }
  }

  /** The store of `type` under `name`, if any. */
  getTyped(name: string, type: CrdtType): DotStore | undefined {
    const stores = this.fields.get(name);
    if (stores === undefined) return undefined;
    for (const s of stores) if (s.type === type) return s;
    return undefined;
  }

  /**
   * The store a reader sees under `name`: with several types present, the one holding the
   * greatest dot (counter, then replica), the same choice on every replica.
   */
  visible(name: string): DotStore | undefined {
    const stores = this.fields.get(name);
    if (stores === undefined) return undefined;
    if (stores.length === 1) return stores[0]!.isEmpty() ? undefined : stores[0];
    let best: DotStore | undefined;
    let bestDot: Dot | undefined;
    const dots: Dot[] = [];
    for (const s of stores) {
      if (s.isEmpty()) continue;
      dots.length = 0;
      s.collectDots(dots);
      for (const d of dots) {
        if (bestDot === undefined || d.counter > bestDot.counter || (d.counter === bestDot.counter && d.replica > bestDot.replica)) {
          bestDot = d;
          best = s;
        }
      }
    }
    return best;
  }

  /** Gets or creates (empty, not yet visible) the store of `type` under `name`. */
  ensure(name: string, type: CrdtType): DotStore {
    let stores = this.fields.get(name);
    if (stores === undefined) {
      stores = [];
      this.fields.set(name, stores);
    }
    for (const s of stores) if (s.type === type) return s;
    const s = createEmptyStore(type);
    stores.push(s);
    return s;
  }

  /** Drops empty stores and fields left by local ops or removals under `name`. */
  prune(name: string): void {
    const stores = this.fields.get(name);
    if (stores === undefined) return;
    const kept = stores.filter((s) => !s.isDisposable());
    if (kept.length === 0) this.fields.delete(name);
    else if (kept.length !== stores.length) this.fields.set(name, kept);
  }

  join(incoming: DotStore, ctx: CausalContext): boolean {
    const other = incoming as MapStore;
    let changed = false;
    for (const [name, stores] of other.fields) {
      if (this.joinField(name, stores, ctx)) changed = true;
    }
    return changed;
  }

  /** Joins one field's incoming stores. Returns true if the field's value changed. */
  joinField(name: string, stores: readonly DotStore[], ctx: CausalContext): boolean {
    let changed = false;
    for (const s of stores) {
      const mine = this.ensure(name, s.type);
      if (mine.join(s, ctx)) changed = true;
    }
    this.prune(name);
    return changed;
  }

  remove(slot: RemovedSlot, depth: number): boolean {
    const name = slot.path[depth + 1];
    if (name === undefined) return false;
    // Create what is missing along the path: the removal must be remembered by the slot's
    // store for dots that have not arrived yet.
    const type = depth + 1 === slotStoreDepth(slot) ? slot.type : CrdtType.Map;
    this.ensure(name, type);
    const stores = this.fields.get(name)!;
    let changed = false;
    for (const s of stores) if (s.remove(slot, depth + 1)) changed = true;
    this.prune(name);
    return changed;
  }

  since(ctx: CausalContext): MapStore | undefined {
    let out: Map<string, DotStore[]> | undefined;
    for (const [name, stores] of this.fields) {
      const part = fieldSince(stores, ctx);
      if (part === undefined) continue;
      out ??= new Map();
      out.set(name, part);
    }
    return out === undefined ? undefined : new MapStore(out);
  }

  collectDots(out: Dot[]): void {
    for (const stores of this.fields.values()) for (const s of stores) s.collectDots(out);
  }

  collectSlots(prefix: readonly string[], out: RemovedSlot[]): void {
    for (const [name, stores] of this.fields) for (const s of stores) s.collectSlots([...prefix, name], out);
  }

  clone(): MapStore {
    const out = new Map<string, DotStore[]>();
    for (const [name, stores] of this.fields) out.set(name, stores.map((s) => s.clone()));
    return new MapStore(out);
  }
}

/** The parts of one field's stores with dots outside `ctx`. */
export function fieldSince(stores: readonly DotStore[], ctx: CausalContext): DotStore[] | undefined {
  let out: DotStore[] | undefined;
  for (const s of stores) {
    const part = s.since(ctx);
    if (part !== undefined) (out ??= []).push(part);
  }
  return out;
}
