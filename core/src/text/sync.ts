// Delta exchange and garbage collection for a Sequence: `apply` (idempotent, any order,
// duplicates fine, items with missing origins wait in a pending buffer), `since` (every
// item and delete operation whose dot a context lacks, origins first) and the GC rule.
import { CausalContext } from '../clock/causal-context.ts';
import { RangeSet } from '../clock/range-set.ts';
import type { ReplicaId } from '../clock/replica-id.ts';
import type { Chunk } from './chunk.ts';
import type { DeltaItem, Patch, SequenceDelta } from './delta.ts';
import { idFind, idNext, idNextStart } from './id-tree.ts';
import { integrateItem, markIdsDeleted } from './integrate.ts';
import { first, next } from './position-tree.ts';
import { continuesRun, type Sequence } from './sequence.ts';

/** Bound on passes over the pending buffer per apply (each pass must integrate something). */
const MAX_PENDING_PASSES = 1 << 20;

export function applyDelta<C>(seq: Sequence<C>, delta: SequenceDelta<C>, ctx: CausalContext): Patch<C>[] {
  const patches: Patch<C>[] = [];
  let progress = false;
  const items = delta.items;
  for (let i = 0; i < items.length; i++) if (integrateItem(seq, items[i]!, ctx, patches)) progress = true;
  for (let pass = 0; progress && seq.pending.length > 0 && pass < MAX_PENDING_PASSES; pass++) {
    progress = false;
    const waiting = seq.pending;
    seq.pending = [];
    for (let i = 0; i < waiting.length; i++) if (integrateItem(seq, waiting[i]!, ctx, patches)) progress = true;
  }
  const dots = delta.deleteDots;
  if (!dots.isEmpty && !includes(ctx, dots)) {
    for (const [replica, set] of delta.deletedIds.entries) {
      const r = set.ranges;
      for (let i = 0; i < r.length; i += 2) markIdsDeleted(seq, replica, r[i]!, r[i + 1]!, patches, true);
    }
    const fresh = dots.subtract(ctx);
    for (const [replica, set] of fresh.entries) {
      const r = set.ranges;
      for (let i = 0; i < r.length; i += 2) seq.log.add(replica, r[i]!, r[i + 1]!, delta.deletedIds);
    }
    ctx.merge(fresh);
  }
  return patches;
}

/** True when `ctx` has every dot of `dots` (no allocation). */
function includes(ctx: CausalContext, dots: CausalContext): boolean {
  for (const [replica, set] of dots.entries) {
    const r = set.ranges;
    for (let i = 0; i < r.length; i += 2) if (!ctx.hasRange(replica, r[i]!, r[i + 1]!)) return false;
  }
  return true;
}

export function deltaSince<C>(seq: Sequence<C>, ctx: CausalContext): SequenceDelta<C> | undefined {
  const items = itemsSince(seq, ctx);
  const deleteDots = new CausalContext();
  const deletedIds = new CausalContext();
  seq.log.collect(ctx, deleteDots, deletedIds);
  const orphans = seq.log.unattributed.subtract(ctx);
  if (!orphans.isEmpty) {
    // Their targets are no longer recorded: send every deleted id (deletion is idempotent).
    deleteDots.merge(orphans);
    deletedIds.merge(allDeletedIds(seq));
  }
  if (items.length === 0 && deleteDots.isEmpty) return undefined;
  return { items, deleteDots, deletedIds };
}

/** Every deleted id known (tombstones plus deletes still waiting for their items). */
export function allDeletedIds<C>(seq: Sequence<C>): CausalContext {
  const out = seq.pendingDeletes.clone();
  for (let c = first(seq); c !== null; c = next(c)) if (c.deleted) out.addRange(c.replica, c.counter, c.counter + c.length - 1);
  return out;
}

/** Runs not covered by `ctx`, ordered so that every run's origins come before it. */
function itemsSince<C>(seq: Sequence<C>, ctx: CausalContext): DeltaItem<C>[] {
  const out: DeltaItem<C>[] = [];
  const base = seq.markBase;
  seq.markBase += 3;
  const NEEDED = base + 1;
  const VISITING = base + 2;
  const DONE = base + 3;
  const needed: Chunk<C>[] = [];
  // Only replicas whose counters `ctx` does not cover from 1 up are walked.
  for (const [replica, max] of seq.maxCounter) {
    if (ctx.hasRange(replica as ReplicaId, 1, max)) continue;
    for (let c = idNextStart(seq, replica, 0); c !== null && c.replica === replica; c = idNext(c)) {
      if (ctx.hasRange(c.replica, c.counter, c.counter + c.length - 1)) continue;
      c.mark = NEEDED;
      needed.push(c);
    }
  }
  const stack: Chunk<C>[] = [];
  for (let i = 0; i < needed.length; i++) {
    const root = needed[i]!;
    if (root.mark !== NEEDED) continue;
    root.mark = VISITING;
    stack.push(root);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const dep = neededOrigin(seq, top, NEEDED);
      if (dep !== null) {
        dep.mark = VISITING;
        stack.push(dep);
        continue;
      }
      stack.pop();
      top.mark = DONE;
      emitMissing(seq, top, ctx, out);
    }
  }
  return out;
}

function neededOrigin<C>(seq: Sequence<C>, c: Chunk<C>, NEEDED: number): Chunk<C> | null {
  if (c.leftReplica !== 0) {
    const l = idFind(seq, c.leftReplica, c.leftCounter);
    if (l !== null && l.mark === NEEDED) return l;
  }
  if (c.rightReplica !== 0) {
    const r = idFind(seq, c.rightReplica, c.rightCounter);
    if (r !== null && r.mark === NEEDED) return r;
  }
  return null;
}

/** Pushes the parts of chunk `c` whose ids `ctx` lacks. */
function emitMissing<C>(seq: Sequence<C>, c: Chunk<C>, ctx: CausalContext, out: DeltaItem<C>[]): void {
  const lastCounter = c.counter + c.length - 1;
  const have = ctx.entries.get(c.replica);
  const missing = have === undefined ? [c.counter, lastCounter] : new RangeSet([c.counter, lastCounter]).subtract(have).ranges;
  const kind = seq.kind;
  for (let i = 0; i < missing.length; i += 2) {
    const s = missing[i]!;
    const e = missing[i + 1]!;
    const whole = s === c.counter;
    out.push({
      replica: c.replica,
      counter: s,
      length: e - s + 1,
      content: c.content === null ? null : kind.own(kind.slice(c.content, s - c.counter, e - c.counter + 1)),
      leftReplica: whole ? c.leftReplica : c.replica,
      leftCounter: whole ? c.leftCounter : s - 1,
      rightReplica: c.rightReplica,
      rightCounter: c.rightCounter,
    });
  }
}

/** The GC rule of sequence.ts: fold stable delete records, merge adjacent runs. */
export function collectGarbage<C>(seq: Sequence<C>, stable: CausalContext): void {
  seq.log.collectGarbage(stable);
  mergeRuns(seq);
}

/** Merges every chunk that continues the run of its predecessor (lossless). */
export function mergeRuns<C>(seq: Sequence<C>): void {
  let c = first(seq);
  while (c !== null) {
    const n = next(c);
    if (n === null) break;
    if (continuesRun(c, n)) {
      seq.absorbNext(c, n);
      continue;
    }
    c = n;
  }
}
