// Integration of remote runs and remote deletes into a Sequence.
//
// Placement is FugueMax, computed the way Seph Gentle's "YjsMod" formulation does it
// (shown to order elements exactly as FugueMax): a new element goes between its origin
// left L and origin right R; every element already between them is one inserted
// concurrently, and the scan below decides by comparing *their* origins' positions with
// L's and R's. Elements whose origin left lies before L end the scan; ones whose origin
// left lies after L are inside a sibling's subtree and are skipped; ones with the same
// origin left are siblings, ordered by origin right (the further right R, the earlier)
// and then by replica id. Concurrent runs typed at one place therefore never interleave.
//
// A chunk is scanned as a unit: elements after its first have their predecessor as origin
// left, which lies after L, so they are always skipped.
import type { CausalContext } from '../clock/causal-context.ts';
import { RangeSet } from '../clock/range-set.ts';
import type { ReplicaId } from '../clock/replica-id.ts';
import { Chunk, NO_REPLICA } from './chunk.ts';
import { type DeltaItem, type Patch, PatchKind } from './delta.ts';
import { idFind, idInsert, idNextStart } from './id-tree.ts';
import { first, insertBefore, next, prev, splay, totalBefore, visibleBefore } from './position-tree.ts';
import type { Sequence } from './sequence.ts';

/** Position (counting deleted elements) of element replica:counter, which must be known. */
function positionOf<C>(seq: Sequence<C>, replica: number, counter: number): number {
  const c = idFind(seq, replica, counter)!;
  return totalBefore(seq, c) + counter - c.counter;
}

function isKnown<C>(seq: Sequence<C>, replica: number, counter: number): boolean {
  return replica === NO_REPLICA || idFind(seq, replica, counter) !== null;
}

/**
 * Integrates the parts of `item` not known yet. Parts whose origins are missing are queued
 * in `seq.pending`. Returns true when anything was integrated.
 */
export function integrateItem<C>(seq: Sequence<C>, item: DeltaItem<C>, ctx: CausalContext, patches: Patch<C>[]): boolean {
  const replica = item.replica;
  const start = item.counter;
  const end = start + item.length;
  const kind = seq.kind;
  let progress = false;
  let pos = start;
  while (pos < end) {
    const known = idFind(seq, replica, pos);
    if (known !== null) {
      pos = known.counter + known.length;
      continue;
    }
    const nx = idNextStart(seq, replica, pos);
    const stop = nx === null || nx.counter >= end ? end : nx.counter;
    const whole = pos === start && stop === end;
    const lr = pos === start ? item.leftReplica : replica;
    const lc = pos === start ? item.leftCounter : pos - 1;
    const content = item.content === null ? null : whole ? item.content : kind.slice(item.content, pos - start, stop - start);
    if (!isKnown(seq, lr, lc) || !isKnown(seq, item.rightReplica, item.rightCounter)) {
      if (!isPending(seq, replica, pos, stop - pos)) seq.pending.push(
        whole
          ? item
          : { replica, counter: pos, length: stop - pos, content, leftReplica: lr, leftCounter: lc, rightReplica: item.rightReplica, rightCounter: item.rightCounter },
      );
    } else {
      integrateRun(seq, replica, pos, stop - pos, content === null ? null : kind.own(content), lr, lc, item.rightReplica, item.rightCounter, patches);
      ctx.addRange(replica, pos, stop - 1);
      progress = true;
    }
    pos = stop;
  }
  return progress;
}

/** True when a run starting at replica:counter already waits (duplicates need not wait twice). */
function isPending<C>(seq: Sequence<C>, replica: number, counter: number, length: number): boolean {
  const p = seq.pending;
  for (let i = 0; i < p.length; i++) if (p[i]!.replica === replica && p[i]!.counter === counter && p[i]!.length >= length) return true;
  return false;
}

/** Places one run whose ids are new and whose origins are known. */
function integrateRun<C>(
  seq: Sequence<C>,
  replica: ReplicaId,
  counter: number,
  length: number,
  content: C | null,
  lr: number,
  lc: number,
  rr: number,
  rc: number,
  patches: Patch<C>[],
): void {
  // Make L the last element of its chunk and R the first of its chunk.
  let left: Chunk<C> | null = null;
  if (lr !== NO_REPLICA) {
    left = idFind(seq, lr, lc)!;
    if (lc < left.counter + left.length - 1) seq.split(left, lc - left.counter + 1);
  }
  let right: Chunk<C> | null = null;
  if (rr !== NO_REPLICA) {
    right = idFind(seq, rr, rc)!;
    if (rc > right.counter) right = seq.split(right, rc - right.counter);
  }
  let o = left === null ? first(seq) : next(left);
  let dest = o;
  if (o !== right) {
    const leftPos = left === null ? -1 : totalBefore(seq, left) + left.length - 1;
    const rightPos = right === null ? Number.POSITIVE_INFINITY : totalBefore(seq, right);
    let scanning = false;
    for (;;) {
      if (!scanning) dest = o;
      if (o === null || o === right) break;
      const ol = o.leftReplica === NO_REPLICA ? -1 : positionOf(seq, o.leftReplica, o.leftCounter);
      if (ol < leftPos) break;
      if (ol === leftPos) {
        const or = o.rightReplica === NO_REPLICA ? Number.POSITIVE_INFINITY : positionOf(seq, o.rightReplica, o.rightCounter);
        if (or < rightPos) scanning = true;
        else if (or === rightPos) {
          if (replica < o.replica) break;
          scanning = false;
        } else scanning = false;
      }
      o = next(o);
    }
  }
  seq.noteCounter(replica, counter + length - 1);
  const before = dest === null ? lastChunk(seq) : prev(dest);
  const kind = seq.kind;
  let placed: Chunk<C>;
  let offset = 0;
  if (
    before !== null &&
    before.replica === replica &&
    before.counter + before.length === counter &&
    lr === replica &&
    lc === counter - 1 &&
    before.rightReplica === rr &&
    before.rightCounter === rc &&
    before.deleted === (content === null)
  ) {
    // The run continues the chunk right before it: extend instead of adding a chunk.
    offset = before.length;
    if (content !== null) before.content = kind.append(before.content!, content);
    before.length += length;
    splay(seq, before);
    placed = before;
  } else {
    placed = new Chunk<C>(replica, counter, length, content, lr, lc, rr, rc);
    insertBefore(seq, dest, placed);
    idInsert(seq, placed);
  }
  if (content !== null) {
    pushPatch(patches, PatchKind.Insert, visibleBefore(seq, placed) + offset, length, kind.own(content));
  }
  const pendingSet = seq.pendingDeletes.entries.get(replica);
  if (pendingSet !== undefined) {
    const lastCounter = counter + length - 1;
    const r = pendingSet.ranges;
    for (let i = 0; i < r.length; i += 2) {
      const s = Math.max(r[i]!, counter);
      const e = Math.min(r[i + 1]!, lastCounter);
      if (s <= e) markIdsDeleted(seq, replica, s, e, patches, false);
    }
    const rest = pendingSet.subtract(new RangeSet([counter, lastCounter]));
    if (rest.isEmpty) seq.pendingDeletes.entries.delete(replica);
    else seq.pendingDeletes.entries.set(replica, rest);
  }
}

function lastChunk<C>(seq: Sequence<C>): Chunk<C> | null {
  let n = seq.root;
  if (n === null) return null;
  while (n.r !== null) n = n.r;
  return n;
}

/**
 * Deletes ids replica:firstCounter..lastCounter. Ids not known yet are remembered in
 * `seq.pendingDeletes` (when `remember`) and deleted when their item arrives.
 */
export function markIdsDeleted<C>(
  seq: Sequence<C>,
  replica: ReplicaId,
  firstCounter: number,
  lastCounter: number,
  patches: Patch<C>[],
  remember: boolean,
): void {
  let pos = firstCounter;
  while (pos <= lastCounter) {
    let c = idFind(seq, replica, pos);
    if (c === null) {
      const nx = idNextStart(seq, replica, pos);
      const stop = nx === null || nx.counter > lastCounter ? lastCounter : nx.counter - 1;
      if (remember) seq.pendingDeletes.addRange(replica, pos, stop);
      pos = stop + 1;
      continue;
    }
    if (c.counter < pos) c = seq.split(c, pos - c.counter);
    if (c.counter + c.length - 1 > lastCounter) seq.split(c, lastCounter - c.counter + 1);
    if (!c.deleted) {
      const index = visibleBefore(seq, c);
      pushPatch(patches, PatchKind.Delete, index, c.length, null);
      c = seq.markDeleted(c);
    }
    pos = c.counter + c.length;
  }
}

/** Appends a patch, merging it into the previous one when they touch. */
function pushPatch<C>(patches: Patch<C>[], kind: PatchKind, index: number, length: number, content: C | null): void {
  const lastPatch = patches.length > 0 ? patches[patches.length - 1]! : null;
  if (kind === PatchKind.Delete) {
    if (lastPatch !== null && lastPatch.kind === PatchKind.Delete && lastPatch.index === index) {
      lastPatch.length += length;
      return;
    }
    patches.push({ kind: PatchKind.Delete, index, length });
    return;
  }
  patches.push({ kind: PatchKind.Insert, index, content: content! });
}
