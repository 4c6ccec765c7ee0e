// Forking a sequence: a structural copy of both trees, shapes included, in O(n) without
// any re-balancing (a concurrent trace replay forks thousands of times).
import { Chunk } from './chunk.ts';
import { first, next } from './position-tree.ts';
import type { Sequence } from './sequence.ts';

/** Copies everything of `src` into the empty sequence `out`; returns `out`. */
export function cloneSequence<C>(src: Sequence<C>, out: Sequence<C>): Sequence<C> {
  const kind = src.kind;
  // Copy both trees with their shapes (no re-balancing): number the originals through
  // their marks, copy them, then wire each copy's links to the copies of the originals'.
  const base = src.markBase;
  const originals: Chunk<C>[] = [];
  const copies: Chunk<C>[] = [];
  for (let c = first(src); c !== null; c = next(c)) {
    c.mark = base + originals.length;
    originals.push(c);
    const copy = new Chunk<C>(c.replica, c.counter, c.length, c.content === null ? null : kind.own(c.content), c.leftReplica, c.leftCounter, c.rightReplica, c.rightCounter);
    copy.vis = c.vis;
    copy.tot = c.tot;
    copies.push(copy);
  }
  src.markBase = base + originals.length + 1;
  const at = (c: Chunk<C> | null): Chunk<C> | null => (c === null ? null : copies[c.mark - base]!);
  for (let i = 0; i < originals.length; i++) {
    const o = originals[i]!;
    const copy = copies[i]!;
    copy.p = at(o.p);
    copy.l = at(o.l);
    copy.r = at(o.r);
    copy.ip = at(o.ip);
    copy.il = at(o.il);
    copy.ir = at(o.ir);
  }
  out.root = at(src.root);
  out.idRoot = at(src.idRoot);
  for (const [r, m] of src.maxCounter) out.maxCounter.set(r, m);
  out.log.dots = src.log.dots.slice();
  out.log.idStart = src.log.idStart.slice();
  out.log.ids = src.log.ids.slice();
  out.log.unattributed = src.log.unattributed.clone();
  out.pending = src.pending.slice();
  out.pendingDeletes = src.pendingDeletes.clone();
  return out;
}
