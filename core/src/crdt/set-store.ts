// Set dot store (add-wins observed-remove set, and the grow-only set as its subset).
// Each element keeps the dots of the adds that are live for it, at most one per replica
// (a replica's re-add supersedes its own earlier add). A remove drops the dots it
// observed; an add concurrent with it has a dot the remover never saw, so it wins.
import type { CausalContext } from '../clock/causal-context.ts';
import type { RangeSet } from '../clock/range-set.ts';
import type { Dot } from '../clock/dot.ts';
import { elementKey, type JsonValue } from '../codec/json-value.ts';
import { coveredBy, CrdtType, type DotStore, type RemovedSlot } from './dot-store.ts';
import { collectWatermark, type DeadWatermark, isDead, mergeWatermark, raiseWatermark } from './dead-watermark.ts';

export class SetElement {
  readonly value: JsonValue;
  /** Invariant: non-empty, at most one dot per replica. */
  dots: Dot[];
  constructor(value: JsonValue, dots: Dot[]) {
    this.value = value;
    this.dots = dots;
  }
}

export class SetStore implements DotStore {
  readonly type = CrdtType.Set;
  /** Keyed by elementKey(value). Invariant: no live dot is covered by `dead`. */
  readonly elements: Map<string, SetElement>;
  /** Removed dots per element key and replica (dead-watermark.ts). */
  readonly dead: Map<string, DeadWatermark>;

  constructor(elements: Map<string, SetElement> = new Map(), dead: Map<string, DeadWatermark> = new Map()) {
    this.elements = elements;
    this.dead = dead;
  }

  isEmpty(): boolean {
    return this.elements.size === 0;
  }

  isDisposable(): boolean {
    return this.elements.size === 0 && this.dead.size === 0;
  }

  collectGarbage(stable: CausalContext): void {
    for (const [key, w] of this.dead) {
      collectWatermark(w, stable);
      if (w.size === 0) this.dead.delete(key);
    }
  }

  private deadOf(key: string): DeadWatermark {
    let w = this.dead.get(key);
    if (w === undefined) {
      w = new Map();
      this.dead.set(key, w);
    }
    return w;
  }

  has(value: JsonValue): boolean {
    return this.elements.has(elementKey(value));
  }

  values(): JsonValue[] {
    const out: JsonValue[] = [];
    for (const e of this.elements.values()) out.push(e.value);
    return out;
  }

  /** Local add at the fresh dot `d`; the replaced own dot (if any) goes to `superseded`. */
  add(value: JsonValue, d: Dot, superseded: Dot[], key: string = elementKey(value)): SetStore {
    const existing = this.elements.get(key);
    if (existing === undefined) {
      this.elements.set(key, new SetElement(value, [d]));
    } else {
      const dots = existing.dots;
      let replaced = false;
      for (let i = 0; i < dots.length; i++) {
        if (dots[i]!.replica === d.replica) {
          superseded.push(dots[i]!);
          dots[i] = d;
          replaced = true;
          break;
        }
      }
      if (!replaced) dots.push(d);
    }
    const part = new Map<string, SetElement>();
    part.set(key, new SetElement(value, [d]));
    return new SetStore(part, NO_DEAD);
  }

  /** Local remove: returns the observed dots (empty when absent). */
  removeValue(value: JsonValue, key: string = elementKey(value)): Dot[] {
    const existing = this.elements.get(key);
    if (existing === undefined) return [];
    this.elements.delete(key);
    raiseWatermark(this.deadOf(key), existing.dots);
    return existing.dots;
  }

  join(incoming: DotStore, ctx: CausalContext): boolean {
    const other = incoming as SetStore;
    let changed = false;
    for (const [key, w] of other.dead) {
      if (!mergeWatermark(this.deadOf(key), w)) continue;
      const e = this.elements.get(key);
      if (e !== undefined && this.removeFrom(key, e, [])) changed = true;
    }
    const anyDead = this.dead.size > 0;
    const elements = this.elements;
    // The context does not change during a join: remember the last replica's RangeSet,
    // misses included (a delta usually carries one writer's dots).
    let lastReplica = -1;
    let lastSet: RangeSet | undefined;
    other.elements.forEach((e, key) => {
      let mine = elements.get(key);
      const dead = anyDead ? this.dead.get(key) : undefined;
      const dots = e.dots;
      for (let i = 0; i < dots.length; i++) {
        const d = dots[i]!;
        if (d.replica !== lastReplica) {
          lastReplica = d.replica;
          lastSet = ctx.entries.get(d.replica);
        }
        if ((lastSet !== undefined && lastSet.has(d.counter)) || isDead(dead, d)) continue;
        if (mine === undefined) {
          mine = new SetElement(e.value, [d]);
          elements.set(key, mine);
          changed = true;
          continue;
        }
        if (joinDot(mine.dots, d)) changed = true;
      }
    });
    return changed;
  }

  remove(slot: RemovedSlot, depth: number): boolean {
    const path = slot.path;
    const removed = slot.dots;
    if (depth + 1 < path.length) {
      const key = path[depth + 1]!;
      const e = this.elements.get(key);
      if (e === undefined) {
        raiseWatermark(this.deadOf(key), removed);
        return false;
      }
      return this.removeFrom(key, e, removed);
    }
    // A removal aimed at the whole set (not one element): drop covered dots everywhere,
    // without watermarks, since the dots' elements are unknown.
    let changed = false;
    for (const [key, e] of this.elements) {
      const kept = e.dots.filter((d) => !coveredBy(removed, d));
      if (kept.length === e.dots.length) continue;
      if (kept.length === 0) {
        this.elements.delete(key);
        changed = true;
      } else e.dots = kept;
    }
    return changed;
  }

  private removeFrom(key: string, e: SetElement, removed: readonly Dot[]): boolean {
    const dead = this.deadOf(key);
    raiseWatermark(dead, removed);
    if (dead.size === 0) this.dead.delete(key);
    const kept = e.dots.filter((d) => !coveredBy(removed, d) && !isDead(dead, d));
    if (kept.length === e.dots.length) return false;
    if (kept.length === 0) this.elements.delete(key);
    else e.dots = kept;
    return kept.length === 0;
  }

  since(ctx: CausalContext): SetStore | undefined {
    let out: Map<string, SetElement> | undefined;
    for (const [key, e] of this.elements) {
      let fresh = 0;
      for (const d of e.dots) if (!ctx.has(d.replica, d.counter)) fresh++;
      if (fresh === 0) continue;
      out ??= new Map();
      // Shared when whole: a join copies what it keeps, so sharing is safe.
      out.set(key, fresh === e.dots.length ? e : new SetElement(e.value, e.dots.filter((d) => !ctx.has(d.replica, d.counter))));
    }
    // Watermarks always travel (until collected): the receiver may hold what they cover.
    if (out === undefined && this.dead.size === 0) return undefined;
    return new SetStore(out ?? new Map(), cloneDead(this.dead));
  }

  collectDots(out: Dot[]): void {
    for (const e of this.elements.values()) for (const d of e.dots) out.push(d);
  }

  collectSlots(prefix: readonly string[], out: RemovedSlot[]): void {
    for (const [key, e] of this.elements) out.push({ path: [...prefix, key], dots: e.dots.slice(), type: this.type });
  }

  clone(): SetStore {
    const out = new Map<string, SetElement>();
    for (const [key, e] of this.elements) out.set(key, new SetElement(e.value, e.dots.slice()));
    return new SetStore(out, cloneDead(this.dead));
  }
}

/** Adds `d` to a slot's dots, superseding an older dot of the same replica. */
export function joinDot(dots: Dot[], d: Dot): boolean {
  for (let i = 0; i < dots.length; i++) {
    const x = dots[i]!;
    if (x.replica !== d.replica) continue;
    if (x.counter >= d.counter) return false;
    dots[i] = d;
    return true;
  }
  dots.push(d);
  return true;
}


/** Shared by delta stores with no watermarks (deltas are never mutated). */
const NO_DEAD: Map<string, DeadWatermark> = new Map();

function cloneDead(dead: ReadonlyMap<string, DeadWatermark>): Map<string, DeadWatermark> {
  const out = new Map<string, DeadWatermark>();
  for (const [key, w] of dead) out.set(key, new Map(w));
  return out;
}
