// Snapshot of the whole key-value state: every stored record (data, sessions, applied
// index), so a restored replica answers retries and versions exactly as the original did.
//
//   u8 format (1) | varuint appliedIndex | varuint n | n * (string storage key, bytes value)
//
// The decoder validates every record by its prefix before anything is written; restore
// replaces the storage's content in one batch.
import { Reader } from '../codec/reader.ts';
import { Writer } from '../codec/writer.ts';
import { ErrorCode } from '../errors.ts';
import { CRDT_PREFIX, CRDT_TAIL_PREFIX, decodeCrdtRecord, decodeCrdtTail } from './crdt-keyspaces.ts';
import { decodeEntry } from './record-codec.ts';
import { SESSION_PREFIX, decodeSessionRecord } from './session-table.ts';
import { DATA_PREFIX, META_APPLIED_KEY, type KvStateMachine } from './state-machine.ts';
import type { KvStorage, StorageEntry, StorageOp } from './storage.ts';

const FORMAT = 1;
const MAX_RECORD_KEY_BYTES = 4096;
const MAX_RECORD_BYTES = 64 * 1024 * 1024;

export interface KvSnapshot {
  readonly appliedIndex: number;
  readonly records: readonly StorageEntry[];
}

export function encodeSnapshot(storage: KvStorage, appliedIndex: number): Uint8Array {
  const records: StorageEntry[] = [];
  for (const e of storage.range({})) if (e.key !== META_APPLIED_KEY) records.push(e);
  const w = new Writer(1024);
  w.u8(FORMAT);
  w.varuint(appliedIndex);
  w.varuint(records.length);
  for (const e of records) {
    w.string(e.key);
    w.bytes(e.value);
  }
  return w.finish();
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
