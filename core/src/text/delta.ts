// The data that crosses between replicas and out to editors: sequence deltas (items and
// delete operations), index-based patches, relative positions, and the dot clock the
// sequence draws its counters from (it owns none: one counter sequence per replica is
// shared by every key of a Replica).
import { CausalContext } from '../clock/causal-context.ts';
import { AssertionError } from '../errors.ts';
import type { ReplicaId } from '../clock/replica-id.ts';

/** Hands out fresh counters of the local replica; the owner records them in its context. */
export interface DotClock {
  /** The first of `count` fresh consecutive counters. */
  next(count: number): number;
}

/** A run of elements as sent: ids replica:counter .. counter+length-1. */
export interface DeltaItem<C> {
  replica: ReplicaId;
  counter: number;
  length: number;
  /** null: the run was already deleted when sent (a tombstone: ids and origins only). */
  content: C | null;
  /** Origin left of the first element; replica 0 means the start of the sequence. */
  leftReplica: number;
  leftCounter: number;
  /** Origin right of every element; replica 0 means the end of the sequence. */
  rightReplica: number;
  rightCounter: number;
}

export interface SequenceDelta<C> {
  items: DeltaItem<C>[];
  /** Dots of the delete operations carried (each local delete takes one dot). Insert deltas share a read-only empty context here and in `deletedIds`. */
  deleteDots: CausalContext;
  /** Element ids deleted by those operations (may name more: deletion is idempotent). */
  deletedIds: CausalContext;
}

export const PatchKind = { Insert: 'insert', Delete: 'delete' } as const;
export type PatchKind = (typeof PatchKind)[keyof typeof PatchKind];

/** One change to the visible sequence, in the order they happened (indexes as of then). */
export type Patch<C> =
  | { kind: typeof PatchKind.Insert; index: number; content: C }
  | { kind: typeof PatchKind.Delete; index: number; length: number };

/**
 * A stable cursor: the id of the element right after the caret (replica 0: the end).
 * It keeps pointing before that element whatever is inserted or deleted elsewhere; when the
 * element itself is deleted it resolves to where the element was.
 */
export interface RelativePosition {
  replica: number;
  counter: number;
}

/**
 * The empty context that every insert delta shares as its (empty) delete dots and ids, so
 * a keystroke allocates no Maps. It refuses to change.
 */
class FrozenEmptyContext extends CausalContext {
  override add(): void {
    throw new AssertionError('the shared empty context of a delta is read-only');
  }
  override addRange(): void {
    throw new AssertionError('the shared empty context of a delta is read-only');
  }
  override merge(): void {
    throw new AssertionError('the shared empty context of a delta is read-only');
  }
}

export const EMPTY_CONTEXT: CausalContext = new FrozenEmptyContext();
