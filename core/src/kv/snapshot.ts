// Snapshot of the whole key-value state: every stored record (data, sessions, applied
// index), so a restored replica answers retries and versions exactly as the original did.
//
//   u8 format (1) | varuint appliedIndex | varuint n | n * (string storage key, bytes value)
//
// The decoder validates every record by its prefix before anything is written; restore
// replaces the storage's content in one batch.
import { Reader } from '../codec/reader.ts';
import { Writer } from '../codec/writer.ts';
import { assert, ErrorCode } from '../errors.ts';
import { CRDT_PREFIX, decodeCrdtRecord } from './crdt-keyspaces.ts';
import { CRDT_TAIL_PREFIX, decodeCrdtTail } from './crdt-tail.ts';
import { decodeEntry } from './record-codec.ts';
import { SESSION_PREFIX, decodeSessionRecord } from './session-table.ts';
import { DATA_PREFIX, META_APPLIED_KEY, type KvStateMachine } from './state-machine.ts';
import { frozenEntries, type KvStorage, type StorageEntry, type StorageOp } from './storage.ts';

const FORMAT = 1;
const MAX_RECORD_KEY_BYTES = 4096;
const MAX_RECORD_BYTES = 64 * 1024 * 1024;

export interface KvSnapshot {
  readonly appliedIndex: number;
  readonly records: readonly StorageEntry[];
}

export function encodeSnapshot(storage: KvStorage, appliedIndex: number): Uint8Array {
  const encoder = new SnapshotEncoder(frozenEntries(storage), appliedIndex);
  while (!encoder.step(Number.MAX_SAFE_INTEGER));
  return encoder.finish();
}

/**
 * Encodes a snapshot a slice at a time (the same bytes as encodeSnapshot), so a shell can
 * spread a large state over many turns instead of stalling every request for the whole of
 * it. `records` must be a point-in-time view (frozenEntries) taken at `appliedIndex`.
 */
export class SnapshotEncoder {
  private readonly records: Iterator<StorageEntry, undefined>;
  private readonly appliedIndex: number;
  private readonly body = new Writer(1024);
  private count = 0;
  private done = false;
  /** Set by cancel(): the encoding was dropped on purpose. */
  cancelled = false;

  constructor(records: Iterator<StorageEntry, undefined>, appliedIndex: number) {
    this.records = records;
    this.appliedIndex = appliedIndex;
  }

  /** Encodes up to `maxRecords` more records; true once every record is in. */
  step(maxRecords: number): boolean {
    for (let i = 0; i < maxRecords && !this.done; i++) {
      const next = this.records.next();
      if (next.done === true) {
        this.done = true;
        break;
      }
      const e = next.value;
      if (e.key === META_APPLIED_KEY) continue;
      this.body.string(e.key);
      this.body.bytes(e.value);
      this.count++;
    }
    return this.done;
  }

  /** The snapshot bytes (after step() returned true). */
  finish(): Uint8Array {
    assert(this.done && !this.cancelled, 'snapshot encoder finished before its last record');
    const body = this.body.finish();
    const w = new Writer(body.length + 24);
    w.u8(FORMAT);
    w.varuint(this.appliedIndex);
    w.varuint(this.count);
    w.raw(body);
    return w.finish();
  }

  /** Stops early: releases the storage's view (its read transaction). */
  cancel(): void {
    if (!this.done) this.records.return?.();
    this.done = true;
    this.cancelled = true;
  }
}

export function decodeSnapshot(bytes: Uint8Array): KvSnapshot {
  const r: Reader = new Reader(bytes);
  const f = r.u8();
  if (f !== FORMAT) r.fail(ErrorCode.DecodeVersion, `unknown snapshot format ${f}`);
  const appliedIndex = r.varuint();
  const n = r.count('snapshot record', 2);
  const records: StorageEntry[] = new Array(n);
  let prev: string | undefined;
  for (let i = 0; i < n; i++) {
    const at = r.pos;
    const key = r.string(MAX_RECORD_KEY_BYTES);
    const value = r.bytes(MAX_RECORD_BYTES);
    if (prev !== undefined && key === prev) {
      r.pos = at;
      r.fail(ErrorCode.DecodeInvalid, `duplicate snapshot record ${JSON.stringify(key)}`);
    }
    try {
      if (key.startsWith(DATA_PREFIX)) decodeEntry(value);
      else if (key.startsWith(SESSION_PREFIX)) decodeSessionRecord(value);
      else if (key.startsWith(CRDT_PREFIX)) decodeCrdtRecord(key.slice(CRDT_PREFIX.length), value);
      else if (key.startsWith(CRDT_TAIL_PREFIX)) decodeCrdtTail(value);
      else throw new Error('unknown record prefix');
    } catch (cause) {
      r.pos = at;
      r.fail(ErrorCode.DecodeInvalid, `bad snapshot record ${JSON.stringify(key.slice(0, 64))}: ${(cause as Error).message}`);
    }
    records[i] = { key, value };
    prev = key;
  }
  r.end();
  return { appliedIndex, records };
}

/** Replaces the state machine's whole state with a snapshot's (validated first). */
export function restoreSnapshot(sm: KvStateMachine, storage: KvStorage, bytes: Uint8Array): void {
  const snap = decodeSnapshot(bytes);
  const ops: StorageOp[] = [];
  for (const e of storage.range({})) ops.push({ type: 'delete', key: e.key });
  for (const e of snap.records) ops.push({ type: 'put', key: e.key, value: e.value });
  const w = new Writer(8);
  w.varuint(snap.appliedIndex);
  ops.push({ type: 'put', key: META_APPLIED_KEY, value: w.finish() });
  storage.batch(ops);
  sm.reload();
}
