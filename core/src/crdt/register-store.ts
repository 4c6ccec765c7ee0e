// Register dot store: the values written concurrently, each at its dot with the writer's
// hybrid-logical-clock stamp. A write supersedes every value it observed. Read it as a
// last-writer-wins register (the greatest (stamp, replica) wins: deterministic on every
// replica) or as a multi-value register (every concurrent value).
import type { CausalContext } from '../clock/causal-context.ts';
import type { Dot } from '../clock/dot.ts';
import { compareTimestamps, type HlcTimestamp } from '../clock/hlc.ts';
import type { JsonValue } from '../codec/json-value.ts';
import { coveredBy, CrdtType, type DotStore, type RemovedSlot } from './dot-store.ts';
import { collectWatermark, type DeadWatermark, isDead, mergeWatermark, raiseWatermark } from './dead-watermark.ts';

export class RegisterValue {
  readonly dot: Dot;
  readonly value: JsonValue;
  readonly stamp: HlcTimestamp;
  constructor(d: Dot, value: JsonValue, stamp: HlcTimestamp) {
    this.dot = d;
    this.value = value;
    this.stamp = stamp;
  }
}

/** Last-writer-wins order: stamp, then replica id. */
export function compareRegisterValues(a: RegisterValue, b: RegisterValue): number {
  const c = compareTimestamps(a.stamp, b.stamp);
  return c !== 0 ? c : a.dot.replica - b.dot.replica;
}

export class RegisterStore implements DotStore {
  readonly type = CrdtType.Register;
  /** Invariant: at most one value per replica, none covered by `dead`. */
  values: RegisterValue[];
  /** Removed dots per replica (dead-watermark.ts). */
  readonly dead: DeadWatermark;

  constructor(values: RegisterValue[] = [], dead: DeadWatermark = new Map()) {
    this.values = values;
    this.dead = dead;
  }

  isEmpty(): boolean {
    return this.values.length === 0;
  }

  isDisposable(): boolean {
    return this.values.length === 0 && this.dead.size === 0;
  }

  collectGarbage(stable: CausalContext): void {
    collectWatermark(this.dead, stable);
  }

  /** The last-writer-wins value (undefined when empty). */
  winner(): RegisterValue | undefined {
    let best: RegisterValue | undefined;
    for (const v of this.values) if (best === undefined || compareRegisterValues(v, best) > 0) best = v;
    return best;
  }

  /** Every concurrent value, in last-writer-wins order (winner last). */
  concurrent(): RegisterValue[] {
    return this.values.slice().sort(compareRegisterValues);
  }

  /** Local write: every current value is superseded (pushed to `superseded`). */
  write(next: RegisterValue, superseded: Dot[]): RegisterStore {
    for (const v of this.values) superseded.push(v.dot);
    raiseWatermark(this.dead, superseded);
    this.values = [next];
    return new RegisterStore([next], new Map(this.dead));
  }

  join(incoming: DotStore, ctx: CausalContext): boolean {
    const other = incoming as RegisterStore;
    let changed = false;
    if (mergeWatermark(this.dead, other.dead)) changed = this.dropDead() || changed;
    for (const v of other.values) {
      if (ctx.has(v.dot.replica, v.dot.counter) || isDead(this.dead, v.dot)) continue;
      let placed = false;
      for (let i = 0; i < this.values.length; i++) {
        const mine = this.values[i]!;
        if (mine.dot.replica !== v.dot.replica) continue;
        placed = true;
        if (mine.dot.counter < v.dot.counter) {
          this.values[i] = v;
          changed = true;
        }
        break;
      }
      if (!placed) {
        this.values.push(v);
        changed = true;
      }
    }
    return changed;
  }

  remove(slot: RemovedSlot): boolean {
    const removed = slot.dots;
    raiseWatermark(this.dead, removed);
    const kept = this.values.filter((v) => !coveredBy(removed, v.dot));
    if (kept.length === this.values.length) return false;
    this.values = kept;
    return true;
  }

  private dropDead(): boolean {
    const kept = this.values.filter((v) => !isDead(this.dead, v.dot));
    if (kept.length === this.values.length) return false;
    this.values = kept;
    return true;
  }

  since(ctx: CausalContext): RegisterStore | undefined {
    const out = this.values.filter((v) => !ctx.has(v.dot.replica, v.dot.counter));
    // Watermarks always travel (until collected): the receiver may hold what they cover.
    return out.length === 0 && this.dead.size === 0 ? undefined : new RegisterStore(out, new Map(this.dead));
  }

  collectDots(out: Dot[]): void {
    for (const v of this.values) out.push(v.dot);
  }

  collectSlots(prefix: readonly string[], out: RemovedSlot[]): void {
    if (this.values.length > 0) out.push({ path: prefix, dots: this.values.map((v) => v.dot), type: this.type });
  }

  clone(): RegisterStore {
    return new RegisterStore(this.values.slice(), new Map(this.dead));
  }
}
