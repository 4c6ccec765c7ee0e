// The delete log: which delete operation (dot range) deleted which element ids, kept so
// that `since` can send a peer exactly the delete operations it lacks. Flat number arrays,
// not objects, because a long edit session holds tens of thousands of deletes.
//
// Once a record's dots are causally stable (every known replica has them), no known peer
// can lack them, so garbage collection folds the record into `unattributed`: a set of
// delete dots without their targets. If a peer that does lack some of those dots ever asks
// (a replica joining later), `since` sends those dots with every deleted id it knows,
// which is correct because deletion is idempotent and monotone.
import { CausalContext } from '../clock/causal-context.ts';
import { RangeSet } from '../clock/range-set.ts';
import type { ReplicaId } from '../clock/replica-id.ts';

export class DeleteLog {
  /** Per record: replica, first counter, last counter of its dots. */
  dots: number[];
  /** Per record: offset of its first id triple in `ids`; records are stored in order. */
  idStart: number[];
  /** Triples replica, first counter, last counter of deleted ids. */
  ids: number[];
  /** Delete dots whose targets are no longer recorded (after GC or a state load). */
  unattributed: CausalContext;

  constructor() {
    this.dots = [];
    this.idStart = [];
    this.ids = [];
    this.unattributed = new CausalContext();
  }

  get recordCount(): number {
    return this.idStart.length;
  }

  /** Records one delete of a single id range (the local fast path). */
  addSimple(replica: number, counter: number, idReplica: number, first: number, lastCounter: number): void {
    // A run of deletes (holding backspace or delete) becomes one record: its dots are
    // consecutive and its ids one range. Merging only over-approximates which of the
    // record's dots deleted which id, and a peer missing any of them gets all of them.
    const k = this.idStart.length - 1;
    const dots = this.dots;
    if (k >= 0 && dots[k * 3] === replica && dots[k * 3 + 2]! + 1 === counter) {
      const ids = this.ids;
      const t = ids.length - 3;
      if (t >= this.idStart[k]! && ids[t] === idReplica && first <= ids[t + 2]! + 1 && lastCounter >= ids[t + 1]! - 1) {
        if (first < ids[t + 1]!) ids[t + 1] = first;
        if (lastCounter > ids[t + 2]!) ids[t + 2] = lastCounter;
        dots[k * 3 + 2] = counter;
        return;
      }
    }
    this.dots.push(replica, counter, counter);
    this.idStart.push(this.ids.length);
    this.ids.push(idReplica, first, lastCounter);
  }

  /** Records dot range replica:first..last as having deleted `ids`. */
  add(replica: number, first: number, lastCounter: number, ids: CausalContext): void {
    this.dots.push(replica, first, lastCounter);
    this.idStart.push(this.ids.length);
    for (const [r, set] of ids.entries) {
      const rg = set.ranges;
      for (let i = 0; i < rg.length; i += 2) this.ids.push(r, rg[i]!, rg[i + 1]!);
    }
  }

  /** Adds to `outDots`/`outIds` every record whose dots `ctx` does not fully have. */
  collect(ctx: CausalContext, outDots: CausalContext, outIds: CausalContext): void {
    const dots = this.dots;
    const n = this.idStart.length;
    for (let k = 0; k < n; k++) {
      const replica = dots[k * 3]! as ReplicaId;
      const first = dots[k * 3 + 1]!;
      const lastCounter = dots[k * 3 + 2]!;
      if (ctx.hasRange(replica, first, lastCounter)) continue;
      const have = ctx.entries.get(replica);
      const missing = have === undefined ? [first, lastCounter] : new RangeSet([first, lastCounter]).subtract(have).ranges;
      for (let i = 0; i < missing.length; i += 2) outDots.addRange(replica, missing[i]!, missing[i + 1]!);
      const end = k + 1 < n ? this.idStart[k + 1]! : this.ids.length;
      for (let i = this.idStart[k]!; i < end; i += 3) {
        outIds.addRange(this.ids[i]! as ReplicaId, this.ids[i + 1]!, this.ids[i + 2]!);
      }
    }
  }

  /** Every delete dot known, attributed or not. */
  allDots(): CausalContext {
    const out = this.unattributed.clone();
    const dots = this.dots;
    // Records are mostly in counter order; group per replica, sort, and merge in one pass
    // (adding them one by one to a RangeSet would be quadratic).
    const byReplica = new Map<number, number[]>();
    for (let i = 0; i < dots.length; i += 3) {
      let list = byReplica.get(dots[i]!);
      if (list === undefined) {
        list = [];
        byReplica.set(dots[i]!, list);
      }
      list.push(dots[i + 1]!, dots[i + 2]!);
    }
    for (const [replica, raw] of byReplica) {
      let list = raw;
      let sorted = true;
      for (let i = 2; i < list.length; i += 2) if (list[i]! < list[i - 2]!) sorted = false;
      if (!sorted) {
        const pairs: [number, number][] = [];
        for (let i = 0; i < list.length; i += 2) pairs.push([list[i]!, list[i + 1]!]);
        pairs.sort((a, b) => a[0] - b[0]);
        list = pairs.flat();
      }
      const merged: number[] = [];
      for (let i = 0; i < list.length; i += 2) {
        const s = list[i]!;
        const e = list[i + 1]!;
        const m = merged.length;
        if (m > 0 && s <= merged[m - 1]! + 1) {
          if (e > merged[m - 1]!) merged[m - 1] = e;
        } else merged.push(s, e);
      }
      const set = new RangeSet(merged);
      const mine = out.entries.get(replica as ReplicaId);
      if (mine === undefined) out.entries.set(replica as ReplicaId, set);
      else mine.addAll(set);
    }
    return out;
  }

  /** Folds records whose dots are all in `stable` into `unattributed`. */
  collectGarbage(stable: CausalContext): void {
    const dots: number[] = [];
    const idStart: number[] = [];
    const ids: number[] = [];
    const n = this.idStart.length;
    for (let k = 0; k < n; k++) {
      const replica = this.dots[k * 3]! as ReplicaId;
      const first = this.dots[k * 3 + 1]!;
      const lastCounter = this.dots[k * 3 + 2]!;
      if (stable.hasRange(replica, first, lastCounter)) {
        this.unattributed.addRange(replica, first, lastCounter);
        continue;
      }
      dots.push(replica, first, lastCounter);
      idStart.push(ids.length);
      const end = k + 1 < n ? this.idStart[k + 1]! : this.ids.length;
      for (let i = this.idStart[k]!; i < end; i++) ids.push(this.ids[i]!);
    }
    this.dots = dots;
    this.idStart = idStart;
    this.ids = ids;
  }
}
