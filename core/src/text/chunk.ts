// The chunk: one run-length item of the sequence CRDT. A chunk holds `length` consecutive
// elements inserted by one replica with consecutive counters (ids replica:counter ..
// replica:counter+length-1). It carries its own links for the two trees (position order and
// id order), json-joy style, so the trees allocate nothing and are free functions
// (position-tree.ts, id-tree.ts). Every field is assigned in the constructor, in one order,
// so every chunk has the same hidden class.
import type { ReplicaId } from '../clock/replica-id.ts';

/** Marks "no origin": replica ids are >= 1, so 0 never names a real element. */
export const NO_REPLICA = 0;

export class Chunk<C> {
  replica: ReplicaId;
  counter: number;
  /** Invariant: length >= 1. */
  length: number;
  /** Invariant: content is null exactly when deleted (deleted content is dropped at once). */
  content: C | null;
  deleted: boolean;
  /** Origin left of the first element (0 = start of the sequence); later elements' origin left is their predecessor. */
  leftReplica: number;
  leftCounter: number;
  /** Origin right of every element of the chunk (0 = end of the sequence). */
  rightReplica: number;
  rightCounter: number;

  // Position tree (a splay tree in text order).
  p: Chunk<C> | null;
  l: Chunk<C> | null;
  r: Chunk<C> | null;
  /** Invariant: visible elements in this subtree. */
  vis: number;
  /** Invariant: all elements (visible and deleted) in this subtree. */
  tot: number;

  // Id tree (a splay tree ordered by replica, counter).
  ip: Chunk<C> | null;
  il: Chunk<C> | null;
  ir: Chunk<C> | null;

  /** Scratch mark for walks (topological ordering in `since`). */
  mark: number;

  constructor(
    replica: ReplicaId,
    counter: number,
    length: number,
    content: C | null,
    leftReplica: number,
    leftCounter: number,
    rightReplica: number,
    rightCounter: number,
  ) {
    this.replica = replica;
    this.counter = counter;
    this.length = length;
    this.content = content;
    this.deleted = content === null;
    this.leftReplica = leftReplica;
    this.leftCounter = leftCounter;
    this.rightReplica = rightReplica;
    this.rightCounter = rightCounter;
    this.p = null;
    this.l = null;
    this.r = null;
    this.vis = content === null ? 0 : length;
    this.tot = length;
    this.ip = null;
    this.il = null;
    this.ir = null;
    this.mark = 0;
  }
}
