// The sequence CRDT: an ordered run-length list of chunks, each element named by the dot
// that inserted it. Order follows Fugue ("The Art of the Fugue", Weidner and Kleppmann,
// 2023) in its FugueMax form, computed Yjs-style from two origins per element (see
// integrate.ts), so two runs typed concurrently at one place never interleave.
//
// Local edits find their place by visible index in the position tree and need no conflict
// scan (the new element's origins are adjacent). Remote items go through integrate.ts;
// delta exchange (`apply`, `since`) and garbage collection live in sync.ts.
//
// Garbage collection rule (collectGarbage):
//  1. The content of a deleted element is dropped as soon as it is deleted: no replica
//     ever needs it again (a delta carries a deleted run as a tombstone of ids and origins,
//     and the undo manager keeps its own copy of what the local user deleted).
//  2. The id skeleton of deleted elements (a tombstone chunk) is kept forever, because any
//     replica may still send an element whose origin is that id; adjacent tombstones of one
//     run merge back into one chunk as soon as they touch (and collectGarbage re-merges
//     any chunks that form one run), so a tombstone costs a chunk per deleted run, not per
//     keystroke.
//  3. Which delete operation deleted which ids is kept until the operation's dot is
//     causally stable (in `stable`: every known replica has it); then it is folded into
//     an unattributed set of delete dots (delete-log.ts).
import type { CausalContext } from '../clock/causal-context.ts';
import { CausalContext as Context } from '../clock/causal-context.ts';
import type { ReplicaId } from '../clock/replica-id.ts';
import { InvalidArgumentError } from '../errors.ts';
import { Chunk, NO_REPLICA } from './chunk.ts';
import type { ContentKind } from './content.ts';
import { DeleteLog } from './delete-log.ts';
import { type DeltaItem, type DotClock, EMPTY_CONTEXT, type Patch, type RelativePosition, type SequenceDelta } from './delta.ts';
import { idFind, idInsert, idInsertAfter, idRemove, type IdTree } from './id-tree.ts';
import { findVisible, first, insertAfter, next, prev, remove, splay, type PositionTree, visibleBefore } from './position-tree.ts';
import { applyDelta, collectGarbage, deltaSince } from './sync.ts';
import type { Reader } from '../codec/reader.ts';
import type { Writer } from '../codec/writer.ts';
import { readDelta, writeDelta } from './delta-codec.ts';
import { readState, writeState } from './state-codec.ts';
import { cloneSequence } from './clone-sequence.ts';

/** One run the local user deleted, with its content (for the undo manager). */
export interface RemovedRun<C> {
  replica: ReplicaId;
  counter: number;
  content: C;
}

/** The element type of a content type: string for text, the value type for a list. */
export type ElementOf<C> = C extends string ? string : C extends readonly (infer E)[] ? E : never;

/** A run of element ids: replica:counter .. counter+length-1. */
export interface IdRun {
  replica: ReplicaId;
  counter: number;
  length: number;
}

export class Sequence<C> implements PositionTree<C>, IdTree<C> {
  readonly localReplica: ReplicaId;
  readonly kind: ContentKind<C>;
  root: Chunk<C> | null;
  offset: number;
  idRoot: Chunk<C> | null;
  log: DeleteLog;
  /** Items whose origins are not known yet. */
  pending: DeltaItem<C>[];
  /** Ids named by a delete operation before their item arrived. */
  pendingDeletes: CausalContext;
  /** Base for the scratch marks of one walk (bumped per walk). */
  markBase: number;
  /** Invariant: per replica, at least the highest element counter held (lets `since` skip replicas). */
  maxCounter: Map<number, number>;

  constructor(localReplica: ReplicaId, kind: ContentKind<C>) {
    this.localReplica = localReplica;
    this.kind = kind;
    this.root = null;
    this.offset = 0;
    this.idRoot = null;
    this.log = new DeleteLog();
    this.pending = [];
    this.pendingDeletes = new Context();
    this.markBase = 0;
    this.maxCounter = new Map();
  }

  /** Notes that elements of `replica` up to `lastCounter` are held. */
  noteCounter(replica: number, lastCounter: number): void {
    const m = this.maxCounter.get(replica);
    if (m === undefined || m < lastCounter) this.maxCounter.set(replica, lastCounter);
  }

  /** Visible text (for a text sequence; a list's values are joined as strings). */
  toString(): string {
    return this.content().join('');
  }

  /** Visible elements, one per entry (a text gives its UTF-16 code units). */
  toArray(): ElementOf<C>[] {
    const out: ElementOf<C>[] = [];
    for (let c = first(this); c !== null; c = next(c)) {
      if (c.deleted) continue;
      const content = c.content as unknown as ArrayLike<ElementOf<C>>;
      for (let i = 0; i < content.length; i++) out.push(content[i]!);
    }
    return out;
  }

  writeDelta(w: Writer, delta: SequenceDelta<C>): void {
    writeDelta(w, this.kind, delta);
  }

  /** Decodes a delta of this sequence's content kind; throws DecodeError. */
  readDelta(r: Reader): SequenceDelta<C> {
    return readDelta(r, this.kind);
  }

  writeState(w: Writer): void {
    writeState(w, this);
  }

  /**
   * Replaces this sequence with a decoded state and returns the dots it holds (element ids
   * and delete dots) for the owner's context. Throws DecodeError and changes nothing when
   * the input is malformed. Items waiting in the pending buffer are dropped (`since` from
   * any peer brings them again, as their dots are not in any context).
   */
  readState(r: Reader): CausalContext {
    const { sequence, dots } = readState(r, this.localReplica, this.kind);
    this.root = sequence.root;
    this.idRoot = sequence.idRoot;
    this.log = sequence.log;
    this.pending = sequence.pending;
    this.pendingDeletes = sequence.pendingDeletes;
    this.maxCounter = sequence.maxCounter;
    this.markBase = 0;
    return dots;
  }

  /** Number of visible elements. */
  get length(): number {
    return this.root === null ? 0 : this.root.vis;
  }

  /**
   * Inserts `content` before visible index `index`; a run of n elements takes n
   * consecutive counters from `clock`.
   */
  insert(index: number, content: C, clock: DotClock): SequenceDelta<C> {
    const kind = this.kind;
    const n = kind.length(content);
    const len = this.length;
    if (!Number.isInteger(index) || index < 0 || index > len) {
      throw new InvalidArgumentError(`insert index ${index} outside 0..${len}`);
    }
    if (n === 0) return { items: [], deleteDots: new Context(), deletedIds: new Context() };
    let left: Chunk<C> | null = null;
    let right: Chunk<C> | null;
    if (index === 0) right = first(this);
    else {
      left = findVisible(this, index - 1)!;
      const off = this.offset;
      right = off < left.length - 1 ? this.split(left, off + 1) : next(left);
    }
    return this.insertBetween(left, right, content, n, clock);
  }

  /**
   * Inserts `content` right before element replica:counter, visible or deleted (the undo
   * manager restores deleted text exactly where it was). Returns undefined if unknown.
   */
  insertBeforeId(replica: number, counter: number, content: C, clock: DotClock): SequenceDelta<C> | undefined {
    let right = idFind(this, replica, counter);
    if (right === null) return undefined;
    if (counter > right.counter) right = this.split(right, counter - right.counter);
    return this.insertBetween(prev(right), right, content, this.kind.length(content), clock);
  }

  /** Inserts between two adjacent chunks (null: the start or the end). */
  private insertBetween(left: Chunk<C> | null, right: Chunk<C> | null, content: C, n: number, clock: DotClock): SequenceDelta<C> {
    const kind = this.kind;
    // Insert deltas carry no deletes: they share one read-only empty context (no allocation).
    const delta: SequenceDelta<C> = { items: [], deleteDots: EMPTY_CONTEXT, deletedIds: EMPTY_CONTEXT };
    if (n === 0) return delta;
    const counter = clock.next(n);
    const local = this.localReplica;
    this.noteCounter(local, counter + n - 1);
    const lr = left === null ? NO_REPLICA : left.replica;
    const lc = left === null ? 0 : left.counter + left.length - 1;
    const rr = right === null ? NO_REPLICA : right.replica;
    const rc = right === null ? 0 : right.counter;
    if (
      left !== null &&
      left.replica === local &&
      left.counter + left.length === counter &&
      !left.deleted &&
      left.rightReplica === rr &&
      left.rightCounter === rc
    ) {
      // Typing on at the end of one's own run: extend it (its ids stay contiguous).
      left.content = kind.append(left.content!, kind.own(content));
      left.length += n;
      splay(this, left);
    } else {
      const chunk = new Chunk<C>(local, counter, n, kind.own(content), lr, lc, rr, rc);
      insertAfter(this, left, chunk);
      idInsert(this, chunk);
    }
    delta.items.push({
      replica: local,
      counter,
      length: n,
      content: kind.own(content),
      leftReplica: lr,
      leftCounter: lc,
      rightReplica: rr,
      rightCounter: rc,
    });
    return delta;
  }

  /** Deletes `length` visible elements from `index`; the operation takes one dot. */
  delete(index: number, length: number, clock: DotClock): SequenceDelta<C> {
    return this.deleteRange(index, length, clock, null);
  }

  /** Like `delete`, also pushing each removed run with its content onto `removed`. */
  deleteRange(index: number, length: number, clock: DotClock, removed: RemovedRun<C>[] | null): SequenceDelta<C> {
    const len = this.length;
    if (!Number.isInteger(index) || !Number.isInteger(length) || index < 0 || length < 0 || index + length > len) {
      throw new InvalidArgumentError(`delete ${index}+${length} outside 0..${len}`);
    }
    const delta: SequenceDelta<C> = { items: [], deleteDots: new Context(), deletedIds: new Context() };
    if (length === 0) return delta;
    const dot = clock.next(1);
    const ids = delta.deletedIds;
    let c: Chunk<C> | null = findVisible(this, index)!;
    if (this.offset > 0) c = this.split(c, this.offset);
    let remaining = length;
    while (remaining > 0 && c !== null) {
      if (!c.deleted) {
        if (c.length > remaining) this.split(c, remaining);
        ids.addRange(c.replica, c.counter, c.counter + c.length - 1);
        if (removed !== null) removed.push({ replica: c.replica, counter: c.counter, content: c.content! });
        remaining -= c.length;
        c = this.markDeleted(c);
      }
      c = next(c);
    }
    delta.deleteDots.add(this.localReplica, dot);
    const entries = ids.entries;
    if (entries.size === 1) {
      const [r, set] = entries.entries().next().value!;
      if (set.ranges.length === 2) this.log.addSimple(this.localReplica, dot, r, set.ranges[0]!, set.ranges[1]!);
      else this.log.add(this.localReplica, dot, dot, ids);
    } else this.log.add(this.localReplica, dot, dot, ids);
    return delta;
  }

  /**
   * Deletes whichever elements of the given id runs are still visible, as one operation
   * (one dot, taken only when something is deleted). Used by the undo manager.
   */
  deleteIds(runs: readonly IdRun[], clock: DotClock, removed: RemovedRun<C>[] | null): SequenceDelta<C> {
    const delta: SequenceDelta<C> = { items: [], deleteDots: new Context(), deletedIds: new Context() };
    const ids = delta.deletedIds;
    for (let k = 0; k < runs.length; k++) {
      const run = runs[k]!;
      const lastCounter = run.counter + run.length - 1;
      let pos = run.counter;
      while (pos <= lastCounter) {
        let c = idFind(this, run.replica, pos);
        if (c === null) break;
        if (c.deleted) {
          pos = c.counter + c.length;
          continue;
        }
        if (c.counter < pos) c = this.split(c, pos - c.counter);
        if (c.counter + c.length - 1 > lastCounter) this.split(c, lastCounter - c.counter + 1);
        ids.addRange(c.replica, c.counter, c.counter + c.length - 1);
        if (removed !== null) removed.push({ replica: c.replica, counter: c.counter, content: c.content! });
        pos = c.counter + c.length;
        this.markDeleted(c);
      }
    }
    if (ids.isEmpty) return delta;
    const dot = clock.next(1);
    delta.deleteDots.add(this.localReplica, dot);
    this.log.add(this.localReplica, dot, dot, ids);
    return delta;
  }

  /** Integrates a remote delta; see sync.ts. Adds to `ctx` exactly the dots integrated. */
  apply(delta: SequenceDelta<C>, ctx: CausalContext): Patch<C>[] {
    return applyDelta(this, delta, ctx);
  }

  /** Everything whose dot `ctx` lacks, or undefined when there is nothing. */
  since(ctx: CausalContext): SequenceDelta<C> | undefined {
    return deltaSince(this, ctx);
  }

  /** Applies the garbage collection rule (file header) for dots in `stable`. */
  collectGarbage(stable: CausalContext): void {
    collectGarbage(this, stable);
  }

  /** Visible content, in order. */
  content(): C[] {
    const out: C[] = [];
    for (let c = first(this); c !== null; c = next(c)) if (!c.deleted) out.push(c.content!);
    return out;
  }

  /** A cursor before visible element `index` (at `length`: the end). */
  cursor(index: number): RelativePosition {
    const len = this.length;
    if (!Number.isInteger(index) || index < 0 || index > len) throw new InvalidArgumentError(`cursor index ${index} outside 0..${len}`);
    if (index === len) return { replica: NO_REPLICA, counter: 0 };
    const c = findVisible(this, index)!;
    return { replica: c.replica, counter: c.counter + this.offset };
  }

  /** The current index of a cursor, or -1 when its element is not known here (yet). */
  resolve(pos: RelativePosition): number {
    if (pos.replica === NO_REPLICA) return this.length;
    const c = idFind(this, pos.replica, pos.counter);
    if (c === null) return -1;
    const before = visibleBefore(this, c);
    return c.deleted ? before : before + pos.counter - c.counter;
  }

  /** Visible index of element replica:counter and whether it is visible; -1 when unknown. */
  indexOfId(replica: number, counter: number): number {
    return this.resolve({ replica, counter });
  }

  /** True when element replica:counter is known and not deleted. */
  isVisible(replica: number, counter: number): boolean {
    const c = idFind(this, replica, counter);
    return c !== null && !c.deleted;
  }

  /** A structural copy owned by `localReplica` (a fork: same elements, same delete log). */
  clone(localReplica: ReplicaId): Sequence<C> {
    return cloneSequence(this, new Sequence<C>(localReplica, this.kind));
  }

  /** Number of chunks (runs) held, visible or not: a measure of memory. */
  get chunkCount(): number {
    let n = 0;
    for (let c = first(this); c !== null; c = next(c)) n++;
    return n;
  }

  /** Splits `c` before its element `offset` (0 < offset < length); returns the right part. */
  split(c: Chunk<C>, offset: number): Chunk<C> {
    const kind = this.kind;
    const rightPart = new Chunk<C>(
      c.replica,
      c.counter + offset,
      c.length - offset,
      c.content === null ? null : kind.slice(c.content, offset, c.length),
      c.replica,
      c.counter + offset - 1,
      c.rightReplica,
      c.rightCounter,
    );
    if (c.content !== null) c.content = kind.slice(c.content, 0, offset);
    c.length = offset;
    insertAfter(this, c, rightPart);
    idInsertAfter(this, c, rightPart);
    return rightPart;
  }

  /**
   * Marks a whole chunk deleted and drops its content (rule 1), then merges it with
   * neighbouring tombstones of the same run (rule 2). Returns the chunk now holding its ids.
   */
  markDeleted(c: Chunk<C>): Chunk<C> {
    c.deleted = true;
    c.content = null;
    splay(this, c);
    const p = prev(c);
    if (p !== null && continuesRun(p, c)) {
      this.absorbNext(p, c);
      c = p;
    }
    const n = next(c);
    if (n !== null && continuesRun(c, n)) this.absorbNext(c, n);
    return c;
  }

  /** Merges chunk `n` (which continues the run of `c`) into `c`. */
  absorbNext(c: Chunk<C>, n: Chunk<C>): void {
    remove(this, n);
    idRemove(this, n);
    if (c.content !== null) c.content = this.kind.append(c.content, n.content!);
    c.length += n.length;
    splay(this, c);
  }
}

/**
 * True when `n` continues the run of `c`: same replica, next ids, origin left is c's last
 * element, same origin right, same deleted state. Such chunks mean the same as one chunk.
 */
export function continuesRun<C>(c: Chunk<C>, n: Chunk<C>): boolean {
  return (
    n.replica === c.replica &&
    n.counter === c.counter + c.length &&
    n.leftReplica === c.replica &&
    n.leftCounter === n.counter - 1 &&
    n.rightReplica === c.rightReplica &&
    n.rightCounter === c.rightCounter &&
    n.deleted === c.deleted
  );
}
