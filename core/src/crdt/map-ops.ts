// Local operations at a path of map fields: the mutators of ORMap and of the Replica's
// keyspace. Each op updates the local state and returns its delta, nested in MapStores
// along the path so it joins anywhere with the same code as any other delta.
import type { Dot } from '../clock/dot.ts';
import type { HybridLogicalClock } from '../clock/hlc.ts';
import { elementKey, type JsonValue } from '../codec/json-value.ts';
import { TypeMismatchError } from '../errors.ts';
import type { CausalCrdt } from './causal-crdt.ts';
import { CounterStore } from './counter-store.ts';
import { CausalContext } from '../clock/causal-context.ts';
import type { DotClock, SequenceDelta } from '../text/delta.ts';
import type { Sequence } from '../text/sequence.ts';
import { Delta } from './delta.ts';
import { SequenceStore, type SequenceType } from './sequence-store.ts';
import { CRDT_TYPE_NAMES, CrdtType, type DotStore, marksSeen, type RemovedSlot } from './dot-store.ts';
import { fieldSince, MapStore } from './map-store.ts';
import { RegisterStore, RegisterValue } from './register-store.ts';
import { SetStore } from './set-store.ts';

export class MapOps {
  readonly root: CausalCrdt<MapStore>;
  private readonly clock: HybridLogicalClock;
  private readonly now: () => number;

  constructor(root: CausalCrdt<MapStore>, clock: HybridLogicalClock, now: () => number) {
    this.root = root;
    this.clock = clock;
    this.now = now;
  }

  /** The visible store at `path`, if any (no type check). */
  read(path: readonly string[]): DotStore | undefined {
    let map: MapStore = this.root.store;
    for (let i = 0; i < path.length - 1; i++) {
      const next = map.visible(path[i]!);
      if (next === undefined || next.type !== CrdtType.Map) return undefined;
      map = next as MapStore;
    }
    return map.visible(path[path.length - 1]!);
  }

  /** The visible store at `path` if it has `type`; TypeMismatchError if another type is there. */
  readTyped(path: readonly string[], type: CrdtType): DotStore | undefined {
    const store = this.read(path);
    if (store !== undefined && store.type !== type) {
      throw new TypeMismatchError(path.join('.'), CRDT_TYPE_NAMES[type], CRDT_TYPE_NAMES[store.type]);
    }
    return store;
  }

  counterAdd(path: readonly string[], by: number): Delta<MapStore> {
    const store = this.leaf(path, CrdtType.Counter) as CounterStore;
    const d = this.root.nextDot();
    const seen: Dot[] = [];
    const part = store.add(d.replica, d.counter, by, seen);
    return this.root.localDelta(d, wrap(path, part), seen);
  }

  registerWrite(path: readonly string[], value: JsonValue): Delta<MapStore> {
    const store = this.leaf(path, CrdtType.Register) as RegisterStore;
    const d = this.root.nextDot();
    const seen: Dot[] = [];
    const part = store.write(new RegisterValue(d, value, this.clock.now(this.now())), seen);
    return this.root.localDelta(d, wrap(path, part), seen, [{ path, dots: foreign(seen, d), type: CrdtType.Register }]);
  }

  setAdd(path: readonly string[], value: JsonValue): Delta<MapStore> {
    const store = this.leaf(path, CrdtType.Set) as SetStore;
    const d = this.root.nextDot();
    const seen: Dot[] = [];
    const part = store.add(value, d, seen);
    return this.root.localDelta(d, wrap(path, part), seen);
  }

  setRemove(path: readonly string[], value: JsonValue): Delta<MapStore> {
    const store = this.readTyped(path, CrdtType.Set) as SetStore | undefined;
    const key = elementKey(value);
    const observed = store === undefined ? [] : store.removeValue(value, key);
    this.pruneAlong(path);
    const d = this.root.nextDot();
    return this.root.localDelta(d, undefined, observed, [{ path: [...path, key], dots: observed, type: CrdtType.Set }]);
  }

  /** Removes the field at `path` with everything beneath it that this replica observed. */
  removeField(path: readonly string[]): Delta<MapStore> {
    const parent = this.parent(path, false);
    const observed: Dot[] = [];
    const slots: RemovedSlot[] = [];
    const name = path[path.length - 1]!;
    let part: MapStore | undefined;
    if (parent !== undefined) {
      for (const s of parent.fields.get(name) ?? []) s.collectSlots(path, slots);
      for (const slot of slots) {
        if (marksSeen(slot)) for (const d of slot.dots) observed.push(d);
        this.root.store.remove(slot, -1);
      }
      // What is left are counter bases (counter-store.ts): they travel with the removal.
      const left = parent.fields.get(name);
      const bases = left === undefined ? undefined : fieldSince(left, this.root.context);
      if (bases !== undefined) part = wrapField(path, bases);
      this.pruneAlong(path);
    }
    const d = this.root.nextDot();
    return this.root.localDelta(d, part, observed, slots);
  }

  /**
   * A local edit of the text or list at `path`: `edit` gets the sequence and a clock that
   * draws counters from this replica's context; the delta's context is what it drew.
   */
  sequenceEdit<C>(path: readonly string[], type: SequenceType, edit: (seq: Sequence<C>, clock: DotClock) => SequenceDelta<C>): Delta<MapStore> {
    const store = this.leaf(path, type) as SequenceStore<C>;
    const used = new CausalContext();
    const clock = store.clockFor(this.root.context, this.root.replica, used);
    const d = edit(store.sequenceFor(this.root.replica), clock);
    this.pruneAlong(path);
    return new Delta(used, wrap(path, SequenceStore.ofDelta(type, store.kind, d)), []);
  }

  /** The sequence at `path` for local edits, created if absent. */
  sequenceAt<C>(path: readonly string[], type: SequenceType): SequenceStore<C> {
    return this.leaf(path, type) as SequenceStore<C>;
  }

  /** Observes remote register stamps so later local writes order after them. */
  observeStamps(store: DotStore): void {
    switch (store.type) {
      case CrdtType.Register:
        for (const v of (store as RegisterStore).values) this.clock.observe(v.stamp, this.now());
        return;
      case CrdtType.Map:
        for (const stores of (store as MapStore).fields.values()) for (const s of stores) this.observeStamps(s);
        return;
      default:
        return;
    }
  }

  private leaf(path: readonly string[], type: CrdtType): DotStore {
    this.readTyped(path, type);
    const parent = this.parent(path, true)!;
    return parent.ensure(path[path.length - 1]!, type);
  }

  /** The map holding the last field of `path`, created along the way if `create`. */
  private parent(path: readonly string[], create: boolean): MapStore | undefined {
    let map: MapStore = this.root.store;
    for (let i = 0; i < path.length - 1; i++) {
      const existing = map.visible(path[i]!);
      if (existing !== undefined && existing.type !== CrdtType.Map) {
        throw new TypeMismatchError(path.slice(0, i + 1).join('.'), 'map', CRDT_TYPE_NAMES[existing.type]);
      }
      if (existing === undefined && !create) return undefined;
      map = (existing ?? map.ensure(path[i]!, CrdtType.Map)) as MapStore;
    }
    return map;
  }

  /** Drops stores left empty by a local removal, innermost first. */
  private pruneAlong(path: readonly string[]): void {
    const maps: MapStore[] = [this.root.store];
    for (let i = 0; i < path.length - 1; i++) {
      const next = maps[i]!.getTyped(path[i]!, CrdtType.Map);
      if (next === undefined) break;
      maps.push(next as MapStore);
    }
    for (let i = maps.length - 1; i >= 0; i--) {
      if (i < path.length) maps[i]!.prune(path[i]!);
    }
  }
}

function foreign(dots: readonly Dot[], own: Dot): Dot[] {
  return dots.filter((d) => d.replica !== own.replica);
}

/** A MapStore chain along `path` whose last field holds `stores`. */
function wrapField(path: readonly string[], stores: DotStore[]): MapStore {
  const last = new MapStore(new Map([[path[path.length - 1]!, stores]]));
  return path.length === 1 ? last : wrap(path.slice(0, -1), last);
}

/** Nests a leaf delta store in MapStores along `path`. */
export function wrap(path: readonly string[], leaf: DotStore): MapStore {
  let inner: DotStore = leaf;
  for (let i = path.length - 1; i >= 0; i--) inner = new MapStore(new Map([[path[i]!, [inner]]]));
  return inner as MapStore;
}
