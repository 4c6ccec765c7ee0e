// Binary encoding of key-value commands: what a Raft log entry carries.
//
//   u8 format version (1)
//   u8 opcode            1 put · 2 delete · 3 counter · 4 set · 5 batch · 6 crdt
//   u8 has session       0 | 1, then: string clientId, varuint seq
//   string keyspace
//   put:     string key, varuint ifVersion+1 (0 = none), json value
//   delete:  string key, varuint ifVersion+1
//   counter: string key, f64 by
//   set:     string key, varuint n, json*n (add), varuint m, json*m (remove)
//   batch:   varuint n, n * (u8 op 1 put|2 delete|3 get, string key, varuint ifVersion+1,
//                            put only: json value)
//   crdt:    varuint n (1..MAX_CRDT_DELTAS), n * (varuint origin replica id, bytes delta)
//
// encodeCommand validates limits (typed KvLimitError); decodeCommand validates everything and
// throws DecodeError, so a command from the log or the wire is either whole or rejected.
import { Reader } from '../codec/reader.ts';
import type { Writer } from '../codec/writer.ts';
import { scratchWriter } from '../codec/scratch-writer.ts';
import { isJsonValue, readJson, writeJson, type JsonValue } from '../codec/json-value.ts';
import { ErrorCode } from '../errors.ts';
import type { BatchOp, CrdtDeltaItem, KvCommand, KvSession } from './commands.ts';
import { KvErrorCode, KvLimitError } from './errors.ts';
import {
  DEFAULT_MAX_VALUE_BYTES,
  MAX_BATCH_OPS,
  MAX_CLIENT_ID_BYTES,
  MAX_KEY_BYTES,
  MAX_KEYSPACE_BYTES,
  checkKey,
  checkKeyspace,
  checkVersion,
  isKeyspace,
  utf8Length,
} from './limits.ts';

export const COMMAND_FORMAT_VERSION = 1;

const Op = { Put: 1, Delete: 2, Counter: 3, Set: 4, Batch: 5, Crdt: 6 } as const;

/** Most CRDT deltas in one command (also spaces the keyspace log positions of one entry). */
export const MAX_CRDT_DELTAS = 1024;
const BatchOpCode = { Put: 1, Delete: 2, Get: 3 } as const;

export interface CommandLimits {
  /** Largest encoded value (register value, or all set elements of one command). */
  readonly maxValueBytes?: number;
}

/** Encoded size limit of a whole command: a batch may carry several values. */
export function maxCommandBytes(maxValueBytes: number): number {
  return maxValueBytes * 4 + 64 * 1024;
}

function writeValue(w: Writer, value: unknown, maxValueBytes: number, what: string): void {
  if (!isJsonValue(value)) throw new KvLimitError(KvErrorCode.CommandInvalid, `${what} is not plain JSON`);
  const start = w.pos;
  try {
    writeJson(w, value);
  } catch (cause) {
    throw new KvLimitError(KvErrorCode.CommandInvalid, `${what}: ${(cause as Error).message}`);
  }
  if (w.pos - start > maxValueBytes) {
    throw new KvLimitError(KvErrorCode.ValueTooLarge, `${what} of ${w.pos - start} bytes exceeds ${maxValueBytes}`);
  }
}

function writeIfVersion(w: Writer, v: number | undefined): void {
  if (v === undefined) return w.varuint(0);
  checkVersion(v, 'ifVersion');
  w.varuint(v + 1);
}

function writeSession(w: Writer, s: KvSession | undefined): void {
  if (s === undefined) return w.u8(0);
  const n = typeof s.clientId === 'string' ? utf8Length(s.clientId) : -1;
  if (n < 1 || n > MAX_CLIENT_ID_BYTES) {
    throw new KvLimitError(KvErrorCode.CommandInvalid, `a client id is 1-${MAX_CLIENT_ID_BYTES} bytes of UTF-8`);
  }
  checkVersion(s.seq, 'session seq');
  w.u8(1);
  w.string(s.clientId);
  w.varuint(s.seq);
}

/** Validates and encodes a command. Throws KvLimitError for bad keys, values or sizes. */
export function encodeCommand(cmd: KvCommand, limits: CommandLimits = {}, w = scratchWriter): Uint8Array {
  const maxValueBytes = limits.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
  w.reset();
  w.u8(COMMAND_FORMAT_VERSION);
  checkKeyspace(cmd.ks);
  switch (cmd.type) {
    case 'put':
      w.u8(Op.Put);
      writeSession(w, cmd.session);
      w.string(cmd.ks);
      checkKey(cmd.key);
      w.string(cmd.key);
      writeIfVersion(w, cmd.ifVersion);
      writeValue(w, cmd.value, maxValueBytes, 'value');
      break;
    case 'delete':
      w.u8(Op.Delete);
      writeSession(w, cmd.session);
      w.string(cmd.ks);
      checkKey(cmd.key);
      w.string(cmd.key);
      writeIfVersion(w, cmd.ifVersion);
      break;
    case 'counter':
      w.u8(Op.Counter);
      writeSession(w, cmd.session);
      w.string(cmd.ks);
      checkKey(cmd.key);
      w.string(cmd.key);
      if (typeof cmd.by !== 'number' || !Number.isFinite(cmd.by)) {
        throw new KvLimitError(KvErrorCode.CommandInvalid, '"by" must be a finite number');
      }
      w.f64(cmd.by);
      break;
    case 'set': {
      w.u8(Op.Set);
      writeSession(w, cmd.session);
      w.string(cmd.ks);
      checkKey(cmd.key);
      w.string(cmd.key);
      if (!Array.isArray(cmd.add) || !Array.isArray(cmd.remove)) {
        throw new KvLimitError(KvErrorCode.CommandInvalid, '"add" and "remove" must be arrays');
      }
      const start = w.pos;
      w.varuint(cmd.add.length);
      for (const v of cmd.add) writeValue(w, v, maxValueBytes, 'set element');
      w.varuint(cmd.remove.length);
      for (const v of cmd.remove) writeValue(w, v, maxValueBytes, 'set element');
      if (w.pos - start > maxValueBytes) {
        throw new KvLimitError(KvErrorCode.ValueTooLarge, `set elements of ${w.pos - start} bytes exceed ${maxValueBytes}`);
      }
      break;
    }
    case 'batch':
      w.u8(Op.Batch);
      writeSession(w, cmd.session);
      w.string(cmd.ks);
      if (!Array.isArray(cmd.ops) || cmd.ops.length === 0 || cmd.ops.length > MAX_BATCH_OPS) {
        throw new KvLimitError(KvErrorCode.CommandInvalid, `a batch has 1-${MAX_BATCH_OPS} ops`);
      }
      w.varuint(cmd.ops.length);
      for (const op of cmd.ops) writeBatchOp(w, op, maxValueBytes);
      break;
    case 'crdt':
      w.u8(Op.Crdt);
      writeSession(w, cmd.session);
      w.string(cmd.ks);
      if (!Array.isArray(cmd.deltas) || cmd.deltas.length === 0 || cmd.deltas.length > MAX_CRDT_DELTAS) {
        throw new KvLimitError(KvErrorCode.CommandInvalid, `a crdt command has 1-${MAX_CRDT_DELTAS} deltas`);
      }
      w.varuint(cmd.deltas.length);
      for (const d of cmd.deltas) {
        if (!Number.isSafeInteger(d.origin) || d.origin <= 0 || !(d.bytes instanceof Uint8Array)) {
          throw new KvLimitError(KvErrorCode.CommandInvalid, 'a crdt delta needs a replica id and bytes');
        }
        w.varuint(d.origin);
        w.bytes(d.bytes);
      }
      break;
    default:
      throw new KvLimitError(KvErrorCode.CommandInvalid, `unknown command type ${String((cmd as { type: unknown }).type)}`);
  }
  const limit = maxCommandBytes(maxValueBytes);
  if (w.pos > limit) throw new KvLimitError(KvErrorCode.ValueTooLarge, `command of ${w.pos} bytes exceeds ${limit}`);
  return w.finish();
}

function writeBatchOp(w: Writer, op: BatchOp, maxValueBytes: number): void {
  checkKey(op.key);
  switch (op.op) {
    case 'put':
      w.u8(BatchOpCode.Put);
      w.string(op.key);
      writeIfVersion(w, op.ifVersion);
      writeValue(w, op.value, maxValueBytes, `value of ${JSON.stringify(op.key)}`);
      return;
    case 'delete':
      w.u8(BatchOpCode.Delete);
      w.string(op.key);
      writeIfVersion(w, op.ifVersion);
      return;
    case 'get':
      w.u8(BatchOpCode.Get);
      w.string(op.key);
      writeIfVersion(w, op.ifVersion);
      return;
    default:
      throw new KvLimitError(KvErrorCode.CommandInvalid, `unknown batch op ${String((op as { op: unknown }).op)}`);
  }
}

function readKey(r: Reader): string {
  const start = r.pos;
  const key = r.string(MAX_KEY_BYTES);
  if (key.length === 0) {
    r.pos = start;
    r.fail(ErrorCode.DecodeInvalid, 'empty key');
  }
  return key;
}

function readIfVersion(r: Reader): number | undefined {
  const v = r.varuint();
  return v === 0 ? undefined : v - 1;
}

function readValue(r: Reader, maxValueBytes: number): JsonValue {
  const start = r.pos;
  const v = readJson(r, maxValueBytes);
  if (r.pos - start > maxValueBytes) {
    r.pos = start;
    r.fail(ErrorCode.DecodeTooLarge, `value exceeds ${maxValueBytes} bytes`);
  }
  return v;
}

/** Decodes and validates a command; throws DecodeError on anything malformed. */
export function decodeCommand(bytes: Uint8Array, limits: CommandLimits = {}): KvCommand {
  const maxValueBytes = limits.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
  if (bytes.length > maxCommandBytes(maxValueBytes)) {
    throw new Reader(bytes).fail(ErrorCode.DecodeTooLarge, `command of ${bytes.length} bytes is too large`);
  }
  const r: Reader = new Reader(bytes);
  const version = r.u8();
  if (version !== COMMAND_FORMAT_VERSION) r.fail(ErrorCode.DecodeVersion, `unknown command format ${version}`);
  const op = r.u8();
  const hasSession = r.u8();
  let session: KvSession | undefined;
  if (hasSession === 1) {
    const clientId = r.string(MAX_CLIENT_ID_BYTES);
    if (clientId.length === 0) r.fail(ErrorCode.DecodeInvalid, 'empty client id');
    session = { clientId, seq: r.varuint() };
  } else if (hasSession !== 0) r.fail(ErrorCode.DecodeInvalid, `bad session flag ${hasSession}`);
  const ksStart = r.pos;
  const ks = r.string(MAX_KEYSPACE_BYTES);
  if (!isKeyspace(ks)) {
    r.pos = ksStart;
    r.fail(ErrorCode.DecodeInvalid, 'invalid keyspace');
  }
  const base = session === undefined ? { ks } : { ks, session };
  let cmd: KvCommand;
  switch (op) {
    case Op.Put: {
      const key = readKey(r);
      const ifVersion = readIfVersion(r);
      const value = readValue(r, maxValueBytes);
      cmd = ifVersion === undefined ? { type: 'put', ...base, key, value } : { type: 'put', ...base, key, value, ifVersion };
      break;
    }
    case Op.Delete: {
      const key = readKey(r);
      const ifVersion = readIfVersion(r);
      cmd = ifVersion === undefined ? { type: 'delete', ...base, key } : { type: 'delete', ...base, key, ifVersion };
      break;
    }
    case Op.Counter: {
      const key = readKey(r);
      const by = r.f64();
      if (!Number.isFinite(by)) r.fail(ErrorCode.DecodeInvalid, 'non-finite counter delta');
      cmd = { type: 'counter', ...base, key, by };
      break;
    }
    case Op.Set: {
      const key = readKey(r);
      const add = readValues(r, maxValueBytes);
      const remove = readValues(r, maxValueBytes);
      cmd = { type: 'set', ...base, key, add, remove };
      break;
    }
    case Op.Batch: {
      const n = r.count('batch op', 3);
      if (n === 0 || n > MAX_BATCH_OPS) r.fail(ErrorCode.DecodeInvalid, `batch of ${n} ops`);
      const ops: BatchOp[] = new Array(n);
      for (let i = 0; i < n; i++) ops[i] = readBatchOp(r, maxValueBytes);
      cmd = { type: 'batch', ...base, ops };
      break;
    }
    case Op.Crdt: {
      const n = r.count('crdt delta', 2);
      if (n === 0 || n > MAX_CRDT_DELTAS) r.fail(ErrorCode.DecodeInvalid, `crdt command of ${n} deltas`);
      const deltas: CrdtDeltaItem[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const origin = r.varuint();
        if (origin === 0) r.fail(ErrorCode.DecodeInvalid, 'crdt delta from replica 0');
        deltas[i] = { origin, bytes: r.bytes(maxCommandBytes(maxValueBytes)) };
      }
      cmd = { type: 'crdt', ...base, deltas };
      break;
    }
    default:
      r.pos = 1;
      r.fail(ErrorCode.DecodeType, `unknown command opcode ${op}`);
  }
  r.end();
  return cmd;
}

function readValues(r: Reader, maxValueBytes: number): JsonValue[] {
  const n = r.count('set element', 1);
  const out: JsonValue[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = readValue(r, maxValueBytes);
  return out;
}

function readBatchOp(r: Reader, maxValueBytes: number): BatchOp {
  const code = r.u8();
  const key = readKey(r);
  const ifVersion = readIfVersion(r);
  const extra = ifVersion === undefined ? {} : { ifVersion };
  switch (code) {
    case BatchOpCode.Put:
      return { op: 'put', key, value: readValue(r, maxValueBytes), ...extra };
    case BatchOpCode.Delete:
      return { op: 'delete', key, ...extra };
    case BatchOpCode.Get:
      return { op: 'get', key, ...extra };
    default:
      return r.fail(ErrorCode.DecodeType, `unknown batch op ${code}`);
  }
}
