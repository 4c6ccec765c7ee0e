// The commands of the replicated key-value state machine and their results. A command is
// what a client proposes; a result is what apply() answers once the command is committed.
// Both are plain data so that they can be encoded, cached in the session table and
// compared in tests.
import type { JsonValue } from '../codec/json-value.ts';

/** The CRDT type a key holds. The origin state machine keeps register, counter and set. */
export const KvValueType = { Register: 'register', Counter: 'counter', Set: 'set' } as const;
export type KvValueType = (typeof KvValueType)[keyof typeof KvValueType];

/** Identifies a client request for exactly-once application (`Idempotency-Key`). */
export interface KvSession {
  readonly clientId: string;
  readonly seq: number;
}

export const KvCommandType = { Put: 'put', Delete: 'delete', Counter: 'counter', Set: 'set', Batch: 'batch', Crdt: 'crdt' } as const;
export type KvCommandType = (typeof KvCommandType)[keyof typeof KvCommandType];

interface CommandBase {
  readonly ks: string;
  readonly session?: KvSession;
}

/** Writes a register. `ifVersion` makes it a compare-and-set; 0 means "must not exist". */
export interface PutCommand extends CommandBase {
  readonly type: 'put';
  readonly key: string;
  readonly value: JsonValue;
  readonly ifVersion?: number;
}

export interface DeleteCommand extends CommandBase {
  readonly type: 'delete';
  readonly key: string;
  readonly ifVersion?: number;
}

/** Adds `by` to a counter, creating it at 0 first when the key does not exist. */
export interface CounterCommand extends CommandBase {
  readonly type: 'counter';
  readonly key: string;
  readonly by: number;
}

/** Adds then removes elements of a set (elements are compared as canonical JSON). */
export interface SetCommand extends CommandBase {
  readonly type: 'set';
  readonly key: string;
  readonly add: readonly JsonValue[];
  readonly remove: readonly JsonValue[];
}

export type BatchOp =
  | { readonly op: 'put'; readonly key: string; readonly value: JsonValue; readonly ifVersion?: number }
  | { readonly op: 'delete'; readonly key: string; readonly ifVersion?: number }
  | { readonly op: 'get'; readonly key: string; readonly ifVersion?: number };

/** All ops or none: any failed precondition leaves the state unchanged. */
export interface BatchCommand extends CommandBase {
  readonly type: 'batch';
  readonly ops: readonly BatchOp[];
}

/** One CRDT delta from a sync client: the encoded replica delta and the replica that made it. */
export interface CrdtDeltaItem {
  readonly origin: number;
  readonly bytes: Uint8Array;
}

/**
 * CRDT deltas of one keyspace, batched by the origin's sync shell: joined into the
 * keyspace's replicated Replica in order (core/src/kv/crdt-keyspaces.ts).
 */
export interface CrdtCommand extends CommandBase {
  readonly type: 'crdt';
  readonly deltas: readonly CrdtDeltaItem[];
}

export type KvCommand = PutCommand | DeleteCommand | CounterCommand | SetCommand | BatchCommand | CrdtCommand;

/** One key's state as readers see it. */
export interface KvEntry {
  readonly type: KvValueType;
  /** Register: the value; counter: a number; set: the elements, sorted canonically. */
  readonly value: JsonValue;
  /** Log index of the key's last write. */
  readonly version: number;
}

export type BatchOpResult =
  | { readonly op: 'put'; readonly key: string; readonly version: number }
  | { readonly op: 'delete'; readonly key: string; readonly found: boolean; readonly version: number }
  | {
      readonly op: 'get';
      readonly key: string;
      readonly found: boolean;
      readonly type?: KvValueType;
      readonly value?: JsonValue;
      readonly version?: number;
    };

export const KvStatus = { Ok: 'ok', NotFound: 'not_found', Conflict: 'conflict', TypeMismatch: 'type_mismatch' } as const;
export type KvStatus = (typeof KvStatus)[keyof typeof KvStatus];

export interface KvOk {
  readonly status: 'ok';
  /** The log index of this command (the new version of every key it wrote). */
  readonly version: number;
  /** Counter: the new value. */
  readonly value?: number;
  /** Set: the elements after the change. */
  readonly values?: readonly JsonValue[];
  /** Batch: one result per op. */
  readonly results?: readonly BatchOpResult[];
}

export interface KvNotFound {
  readonly status: 'not_found';
  readonly key: string;
}

/** A failed `ifVersion`; `version` is the key's current version, 0 when it does not exist. */
export interface KvConflict {
  readonly status: 'conflict';
  readonly key: string;
  readonly version: number;
}

export interface KvTypeMismatch {
  readonly status: 'type_mismatch';
  readonly key: string;
  readonly actual: KvValueType;
}

export type KvResult = KvOk | KvNotFound | KvConflict | KvTypeMismatch;

/** A committed change to one key, as watchers see it. */
export interface KvChange {
  readonly ks: string;
  readonly key: string;
  readonly version: number;
  readonly deleted: boolean;
  readonly type?: KvValueType;
  readonly value?: JsonValue;
}
