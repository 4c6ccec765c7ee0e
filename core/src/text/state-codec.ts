// Binary form of a whole sequence (snapshot). Chunks go in text order, and most of a
// chunk is predicted from its neighbours, so a chunk usually costs three or four bytes:
//
//   u8  version (1)
//   u8  content tag (0 text, 1 list)
//   replicaCount, replicaCount × replica id
//   chunkCount
//   chunkCount × chunk:
//     varuint head = flags + 120 × (length − 1), where
//       flags = deleted (0/1) + 2 × same replica as the previous chunk (0/1) + 4 × (left + 6 × right)
//       left, origin left:  0 none, 1 last element of the previous chunk,
//                           2 own predecessor (replica:counter-1),
//                           3 last element of the chunk k back, 4 explicit,
//                           5 continues the run of the chunk k back (replica and counter
//                             follow from it: that chunk's end)
//       right, origin right: 0 none, 1 first element of the next chunk,
//                           2 same as the previous chunk's,
//                           3 first element of the chunk k ahead, 4 explicit
//     [k − 1]                              when origin left is 5, else:
//       [replica index]                    unless same replica
//       zigzag varint  counter − (previous chunk's counter + length)   (the first: counter − 0)
//     [k − 2]                              when origin left is 3
//     [left replica index, left counter]   when origin left is 4
//     [k − 2]                              when origin right is 3
//     [right replica index, right counter] when origin right is 4
//   content of the visible chunks, concatenated (text: one UTF-8 string; list: JSON values)
//   causal context  cover: delete dots ∪ element ids (delete dots = cover − element ids)
//   causal context  deletes still waiting for their items
//
// Delete dots are sent as a cover rather than on their own: in a text that is the only
// user of its replica's counters, cover is one range per replica however many deletes there
// were. Which delete deleted which ids is not kept: a loaded sequence holds every delete dot
// as unattributed (delete-log.ts). Items still waiting for their origins are not part of
// the state (their dots are not in the context, so `since` brings them again).
import { CausalContext } from '../clock/causal-context.ts';
import type { ReplicaId } from '../clock/replica-id.ts';
import { readCausalContext, writeCausalContext } from '../codec/causal-context.ts';
import type { Reader } from '../codec/reader.ts';
import type { Writer } from '../codec/writer.ts';
import { ErrorCode } from '../errors.ts';
import { Chunk, NO_REPLICA } from './chunk.ts';
import { type ContentKind, ContentTag, MAX_RUN_ELEMENTS } from './content.ts';
import { readReplicaTable } from './delta-codec.ts';
import { idBuildBalanced, idFirst, idNext } from './id-tree.ts';
import { buildBalanced, first, next } from './position-tree.ts';
import { Sequence } from './sequence.ts';

export const STATE_VERSION = 1;
const L_NONE = 0;
const L_PREV = 1;
const L_OWN = 2;
const L_BACK = 3;
const L_EXPLICIT = 4;
const L_RUN = 5;
/** Distinct flag values (2 × 2 × 6 left kinds × 5 right kinds); the length rides above them. */
const FLAG_VALUES = 120;
const R_NONE = 0;
const R_NEXT = 1;
const R_SAME = 2;
const R_AHEAD = 3;
const R_EXPLICIT = 4;

export function writeState<C>(w: Writer, seq: Sequence<C>): void {
  w.u8(STATE_VERSION);
  w.u8(seq.kind.tag);
  const table = new Map<number, number>();
  const ids: number[] = [];
  // Number the chunks in text order through their scratch marks.
  const base = seq.markBase;
  let count = 0;
  for (let c = first(seq); c !== null; c = next(c)) {
    count++;
    c.mark = base + count;
    add(table, ids, c.replica);
    if (c.leftReplica !== NO_REPLICA) add(table, ids, c.leftReplica);
    if (c.rightReplica !== NO_REPLICA) add(table, ids, c.rightReplica);
  }
  seq.markBase = base + count + 1;
  w.varuint(ids.length);
  for (let i = 0; i < ids.length; i++) w.varuint(ids[i]!);
  w.varuint(count);
  // Chunks in id order, for origin lookups by binary search (no splaying while encoding).
  const byId: Chunk<C>[] = [];
  for (let c = idFirst(seq); c !== null; c = idNext(c)) byId.push(c);
  const elementIds = new CausalContext();
  let prevC: Chunk<C> | null = null;
  let prevEnd = 0;
  let index = 0;
  for (let c = first(seq); c !== null; c = next(c)) {
    index++;
    const nx = next(c);
    let left: number;
    let leftK = 0;
    if (c.leftReplica === NO_REPLICA) left = L_NONE;
    else {
      const o = holder(byId, c.leftReplica, c.leftCounter)!;
      leftK = index - (o.mark - base);
      const isLast = o.mark > base && leftK >= 1 && c.leftCounter === o.counter + o.length - 1;
      // A chunk split off a run: its id follows from the run's earlier part.
      if (isLast && o.replica === c.replica && c.counter === o.counter + o.length) left = L_RUN;
      else if (isLast && leftK === 1) left = L_PREV;
      else if (c.leftReplica === c.replica && c.leftCounter === c.counter - 1) left = L_OWN;
      else left = isLast && leftK >= 2 ? L_BACK : L_EXPLICIT;
    }
    let right: number;
    let rightK = 0;
    if (c.rightReplica === NO_REPLICA) right = R_NONE;
    else if (nx !== null && c.rightReplica === nx.replica && c.rightCounter === nx.counter) right = R_NEXT;
    else if (prevC !== null && c.rightReplica === prevC.rightReplica && c.rightCounter === prevC.rightCounter) right = R_SAME;
    else {
      const o = holder(byId, c.rightReplica, c.rightCounter)!;
      rightK = o.mark - base - index;
      right = o.mark > base && rightK >= 2 && c.rightCounter === o.counter ? R_AHEAD : R_EXPLICIT;
    }
    const sameReplica = left !== L_RUN && prevC !== null && prevC.replica === c.replica;
    const flags = (c.deleted ? 1 : 0) + (sameReplica ? 2 : 0) + 4 * (left + 6 * right);
    w.varuint(flags + FLAG_VALUES * (c.length - 1));
    if (left === L_RUN) w.varuint(leftK - 1);
    else {
      if (!sameReplica) w.varuint(table.get(c.replica)!);
      w.varint(c.counter - prevEnd);
    }
    if (left === L_BACK) w.varuint(leftK - 2);
    else if (left === L_EXPLICIT) {
      w.varuint(table.get(c.leftReplica)!);
      w.varuint(c.leftCounter);
    }
    if (right === R_AHEAD) w.varuint(rightK - 2);
    else if (right === R_EXPLICIT) {
      w.varuint(table.get(c.rightReplica)!);
      w.varuint(c.rightCounter);
    }
    prevC = c;
    prevEnd = c.counter + c.length;
  }
  // In id order the ranges arrive sorted, so each addRange is an append.
  for (let i = 0; i < byId.length; i++) elementIds.addRange(byId[i]!.replica, byId[i]!.counter, byId[i]!.counter + byId[i]!.length - 1);
  writeContent(w, seq);
  const cover = seq.log.allDots();
  cover.merge(elementIds);
  writeCausalContext(w, cover);
  writeCausalContext(w, seq.pendingDeletes);
}

function add(table: Map<number, number>, ids: number[], replica: number): void {
  if (!table.has(replica)) {
    table.set(replica, ids.length);
    ids.push(replica);
  }
}

function writeContent<C>(w: Writer, seq: Sequence<C>): void {
  if (seq.kind.tag === ContentTag.Text) {
    const parts: C[] = seq.content();
    w.string((parts as unknown as string[]).join(''));
    return;
  }
  for (let c = first(seq); c !== null; c = next(c)) if (!c.deleted) seq.kind.write(w, c.content!);
}

export interface LoadedState<C> {
  sequence: Sequence<C>;
  /** Every dot the state holds: element ids and delete dots. */
  dots: CausalContext;
}

export function readState<C>(r: Reader, localReplica: ReplicaId, kind: ContentKind<C>): LoadedState<C> {
  const version = r.u8();
  if (version !== STATE_VERSION) r.fail(ErrorCode.DecodeVersion, `sequence state version ${version}`);
  const tag = r.u8();
  if (tag !== kind.tag) r.fail(ErrorCode.DecodeType, `content tag ${tag}, expected ${kind.tag}`);
  const ids = readReplicaTable(r);
  const n = r.count('chunks', 3);
  const seq = new Sequence<C>(localReplica, kind);
  const chunks: Chunk<C>[] = new Array(n);
  // Origins given as "k chunks back/ahead" are resolved once every chunk is read.
  const leftBack = new Float64Array(n);
  const rightAhead = new Float64Array(n);
  const elementIds = new CausalContext();
  let prevC: Chunk<C> | null = null;
  let prevEnd = 0;
  let visible = 0;
  for (let i = 0; i < n; i++) {
    const head = r.varuint();
    const flags = head % FLAG_VALUES;
    const length = (head - flags) / FLAG_VALUES + 1;
    if (length > MAX_RUN_ELEMENTS) r.fail(ErrorCode.DecodeTooLarge, `chunk of ${length} elements`);
    const deleted = (flags & 1) !== 0;
    const left = (flags >> 2) % 6;
    const right = Math.floor((flags >> 2) / 6);
    if (right > R_EXPLICIT) r.fail(ErrorCode.DecodeInvalid, `chunk flags ${flags}`);
    let replica: number;
    let counter: number;
    if (left === L_RUN) {
      if ((flags & 2) !== 0) r.fail(ErrorCode.DecodeInvalid, `chunk flags ${flags}`);
      const o = chunks[i - 1 - r.bounded(0, i - 1, 'chunks back')]!;
      replica = o.replica;
      counter = o.counter + o.length;
    } else {
      if ((flags & 2) !== 0) {
        if (prevC === null) r.fail(ErrorCode.DecodeInvalid, 'first chunk cannot repeat a replica');
        replica = prevC.replica;
      } else replica = ids[r.bounded(0, ids.length - 1, 'replica index')]!;
      counter = prevEnd + r.varint();
    }
    if (counter < 1 || counter + length - 1 > Number.MAX_SAFE_INTEGER) r.fail(ErrorCode.DecodeInvalid, `chunk counter ${counter}`);
    let lr = NO_REPLICA;
    let lc = 0;
    if (left === L_RUN) {
      lr = replica;
      lc = counter - 1;
    } else if (left === L_PREV) {
      if (prevC === null) r.fail(ErrorCode.DecodeInvalid, 'first chunk has no previous chunk');
      lr = prevC.replica;
      lc = prevC.counter + prevC.length - 1;
    } else if (left === L_OWN) {
      if (counter < 2) r.fail(ErrorCode.DecodeInvalid, 'own predecessor of counter 1');
      lr = replica;
      lc = counter - 1;
    } else if (left === L_BACK) {
      leftBack[i] = r.bounded(0, i - 2 < 0 ? 0 : i - 2, 'chunks back') + 2;
      if (i < 2) r.fail(ErrorCode.DecodeInvalid, 'origin left before the first chunk');
    } else if (left === L_EXPLICIT) {
      lr = ids[r.bounded(0, ids.length - 1, 'replica index')]!;
      lc = r.bounded(1, Number.MAX_SAFE_INTEGER, 'origin counter');
    }
    let rr = NO_REPLICA;
    let rc = 0;
    if (right === R_SAME) {
      if (prevC === null) r.fail(ErrorCode.DecodeInvalid, 'first chunk has no previous chunk');
      rightAhead[i] = -1;
    } else if (right === R_AHEAD) {
      rightAhead[i] = r.bounded(0, Number.MAX_SAFE_INTEGER, 'chunks ahead') + 2;
    } else if (right === R_NEXT) {
      rightAhead[i] = 1;
    } else if (right === R_EXPLICIT) {
      rr = ids[r.bounded(0, ids.length - 1, 'replica index')]!;
      rc = r.bounded(1, Number.MAX_SAFE_INTEGER, 'origin counter');
    }
    // Content is filled in below, once the content section is reached.
    const c = new Chunk<C>(replica as ReplicaId, counter, length, deleted ? null : (null as unknown as C), lr, lc, rr, rc);
    c.deleted = deleted;
    c.vis = deleted ? 0 : length;
    if (!deleted) visible += length;
    seq.noteCounter(replica, counter + length - 1);
    chunks[i] = c;
    prevC = c;
    prevEnd = counter + length;
  }
  for (let i = 0; i < n; i++) {
    const c = chunks[i]!;
    if (leftBack[i]! > 0) {
      const o = chunks[i - leftBack[i]!]!;
      c.leftReplica = o.replica;
      c.leftCounter = o.counter + o.length - 1;
    }
    if (rightAhead[i]! < 0) {
      c.rightReplica = chunks[i - 1]!.rightReplica;
      c.rightCounter = chunks[i - 1]!.rightCounter;
    } else if (rightAhead[i]! > 0) {
      if (i + rightAhead[i]! >= n) r.fail(ErrorCode.DecodeInvalid, 'origin right after the last chunk');
      const o = chunks[i + rightAhead[i]!]!;
      c.rightReplica = o.replica;
      c.rightCounter = o.counter;
    }
  }
  readContent(r, kind, chunks, visible);
  // Both trees are built balanced in O(n) from sorted arrays (no splaying per chunk).
  const byId = chunks.slice().sort((a, b) => a.replica - b.replica || a.counter - b.counter);
  for (let i = 1; i < n; i++) {
    const a = byId[i - 1]!;
    const b = byId[i]!;
    if (a.replica === b.replica && a.counter + a.length > b.counter) r.fail(ErrorCode.DecodeInvalid, `chunk ${b.replica}:${b.counter} overlaps another`);
  }
  for (let i = 0; i < n; i++) {
    const c = chunks[i]!;
    if (c.leftReplica !== NO_REPLICA && holder(byId, c.leftReplica, c.leftCounter) === null) r.fail(ErrorCode.DecodeInvalid, 'unknown origin left');
    if (c.rightReplica !== NO_REPLICA && holder(byId, c.rightReplica, c.rightCounter) === null) r.fail(ErrorCode.DecodeInvalid, 'unknown origin right');
  }
  buildBalanced(seq, chunks);
  idBuildBalanced(seq, byId);
  for (let i = 0; i < n; i++) elementIds.addRange(byId[i]!.replica, byId[i]!.counter, byId[i]!.counter + byId[i]!.length - 1);
  const cover = readCausalContext(r);
  if (!cover.includes(elementIds)) r.fail(ErrorCode.DecodeInvalid, 'cover lacks element ids');
  seq.pendingDeletes = readCausalContext(r);
  seq.log.unattributed = cover.subtract(elementIds);
  return { sequence: seq, dots: cover };
}

/** The chunk of `byId` (sorted by id) holding element replica:counter, or null. */
function holder<C>(byId: Chunk<C>[], replica: number, counter: number): Chunk<C> | null {
  let lo = 0;
  let hi = byId.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const c = byId[mid]!;
    if (c.replica < replica || (c.replica === replica && c.counter + c.length <= counter)) lo = mid + 1;
    else if (c.replica > replica || c.counter > counter) hi = mid - 1;
    else return c;
  }
  return null;
}

function readContent<C>(r: Reader, kind: ContentKind<C>, chunks: Chunk<C>[], visible: number): void {
  if (kind.tag === ContentTag.Text) {
    const all = r.string(visible * 3) as unknown as string;
    if (all.length !== visible) r.fail(ErrorCode.DecodeInvalid, `text of ${all.length} units, expected ${visible}`);
    let pos = 0;
    for (let i = 0; i < chunks.length; i++) {
      const c = chunks[i]!;
      if (c.deleted) continue;
      c.content = all.slice(pos, pos + c.length) as unknown as C;
      pos += c.length;
    }
    return;
  }
  for (let i = 0; i < chunks.length; i++) {
    const c = chunks[i]!;
    if (!c.deleted) c.content = kind.read(r, c.length);
  }
}
