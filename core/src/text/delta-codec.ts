// Binary form of a sequence delta. Layout (all integers are varuints unless noted):
//
//   u8  version (1)
//   u8  content tag (0 text, 1 list; must match the sequence)
//   replicaCount, replicaCount × replica id          table of distinct replica ids
//   itemCount
//   itemCount × item:
//     u8 flags   bit0 tombstone (no content)   bit1 has origin left
//                bit2 origin left is replica:counter-1 (own predecessor)   bit3 has origin right
//     replica index, counter, length
//     [left replica index, left counter]       when bit1 and not bit2
//     [right replica index, right counter]     when bit3
//     content                                  unless bit0 (text: UTF-8 string; list: JSON values)
//   causal context  delete dots                 (codec/causal-context.ts)
//   causal context  deleted ids
//
// The decoder checks every field and builds a fresh delta object, so a malformed message
// throws DecodeError before anything is applied.
import { CausalContext } from '../clock/causal-context.ts';
import type { ReplicaId } from '../clock/replica-id.ts';
import { readCausalContext, writeCausalContext } from '../codec/causal-context.ts';
import type { Reader } from '../codec/reader.ts';
import type { Writer } from '../codec/writer.ts';
import { ErrorCode } from '../errors.ts';
import { type ContentKind, MAX_RUN_ELEMENTS } from './content.ts';
import type { DeltaItem, SequenceDelta } from './delta.ts';

export const DELTA_VERSION = 1;
const F_TOMBSTONE = 1;
const F_LEFT = 2;
const F_LEFT_OWN = 4;
const F_RIGHT = 8;

export function writeDelta<C>(w: Writer, kind: ContentKind<C>, d: SequenceDelta<C>): void {
  w.u8(DELTA_VERSION);
  w.u8(kind.tag);
  const table = new Map<number, number>();
  const ids: number[] = [];
  const items = d.items;
  for (let i = 0; i < items.length; i++) {
    const it = items[i]!;
    addReplica(table, ids, it.replica);
    if (it.leftReplica !== 0) addReplica(table, ids, it.leftReplica);
    if (it.rightReplica !== 0) addReplica(table, ids, it.rightReplica);
  }
  w.varuint(ids.length);
  for (let i = 0; i < ids.length; i++) w.varuint(ids[i]!);
  w.varuint(items.length);
  for (let i = 0; i < items.length; i++) {
    const it = items[i]!;
    const own = it.leftReplica === it.replica && it.leftCounter === it.counter - 1;
    let flags = it.content === null ? F_TOMBSTONE : 0;
    if (it.leftReplica !== 0) flags |= own ? F_LEFT | F_LEFT_OWN : F_LEFT;
    if (it.rightReplica !== 0) flags |= F_RIGHT;
    w.u8(flags);
    w.varuint(table.get(it.replica)!);
    w.varuint(it.counter);
    w.varuint(it.length);
    if (it.leftReplica !== 0 && !own) {
      w.varuint(table.get(it.leftReplica)!);
      w.varuint(it.leftCounter);
    }
    if (it.rightReplica !== 0) {
      w.varuint(table.get(it.rightReplica)!);
      w.varuint(it.rightCounter);
    }
    if (it.content !== null) kind.write(w, it.content);
  }
  writeCausalContext(w, d.deleteDots);
  writeCausalContext(w, d.deletedIds);
}

function addReplica(table: Map<number, number>, ids: number[], replica: number): void {
  if (!table.has(replica)) {
    table.set(replica, ids.length);
    ids.push(replica);
  }
}

export function readDelta<C>(r: Reader, kind: ContentKind<C>): SequenceDelta<C> {
  const version = r.u8();
  if (version !== DELTA_VERSION) r.fail(ErrorCode.DecodeVersion, `sequence delta version ${version}`);
  const tag = r.u8();
  if (tag !== kind.tag) r.fail(ErrorCode.DecodeType, `content tag ${tag}, expected ${kind.tag}`);
  const ids = readReplicaTable(r);
  const n = r.count('items', 4);
  const items: DeltaItem<C>[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const flags = r.u8();
    if (flags > 15 || ((flags & F_LEFT_OWN) !== 0 && (flags & F_LEFT) === 0)) r.fail(ErrorCode.DecodeInvalid, `item flags ${flags}`);
    const replica = ids[r.bounded(0, ids.length - 1, 'replica index')]! as ReplicaId;
    const counter = r.bounded(1, Number.MAX_SAFE_INTEGER, 'counter');
    const length = r.bounded(1, MAX_RUN_ELEMENTS, 'run length');
    if (counter + length - 1 > Number.MAX_SAFE_INTEGER) r.fail(ErrorCode.DecodeInvalid, 'run passes 2^53 - 1');
    let leftReplica = 0;
    let leftCounter = 0;
    if ((flags & F_LEFT_OWN) !== 0) {
      if (counter < 2) r.fail(ErrorCode.DecodeInvalid, 'own predecessor of counter 1');
      leftReplica = replica;
      leftCounter = counter - 1;
    } else if ((flags & F_LEFT) !== 0) {
      leftReplica = ids[r.bounded(0, ids.length - 1, 'replica index')]!;
      leftCounter = r.bounded(1, Number.MAX_SAFE_INTEGER, 'origin counter');
    }
    let rightReplica = 0;
    let rightCounter = 0;
    if ((flags & F_RIGHT) !== 0) {
      rightReplica = ids[r.bounded(0, ids.length - 1, 'replica index')]!;
      rightCounter = r.bounded(1, Number.MAX_SAFE_INTEGER, 'origin counter');
    }
    if (isInside(replica, counter, length, leftReplica, leftCounter) || isInside(replica, counter, length, rightReplica, rightCounter)) {
      r.fail(ErrorCode.DecodeInvalid, 'a run cannot be its own origin');
    }
    const content = (flags & F_TOMBSTONE) !== 0 ? null : kind.read(r, length);
    items[i] = { replica, counter, length, content, leftReplica, leftCounter, rightReplica, rightCounter };
  }
  const deleteDots = readCausalContext(r);
  const deletedIds = readCausalContext(r);
  return { items, deleteDots, deletedIds };
}

function isInside(replica: number, counter: number, length: number, r: number, c: number): boolean {
  return r === replica && c >= counter && c < counter + length;
}

export function readReplicaTable(r: Reader): number[] {
  const n = r.count('replicas', 1);
  const ids: number[] = new Array(n);
  const seen = new Set<number>();
  for (let i = 0; i < n; i++) {
    const id = r.bounded(1, Number.MAX_SAFE_INTEGER, 'replica id');
    if (seen.has(id)) r.fail(ErrorCode.DecodeInvalid, `replica ${id} listed twice`);
    seen.add(id);
    ids[i] = id;
  }
  return ids;
}

/** An empty delta (no items, no deletes). */
export function emptyDelta<C>(): SequenceDelta<C> {
  return { items: [], deleteDots: new CausalContext(), deletedIds: new CausalContext() };
}
