// Binary encodings of what the state machine stores: one key's entry, and a command's result
// (kept in the session table so that a retried command gets its first answer back).
//
// Entry:   u8 format (1) | u8 type 1 register · 2 counter · 3 set | varuint version |
//          register: json · counter: f64 · set: varuint n, json*n (canonically sorted)
// Result:  u8 format (1) | u8 status 1 ok · 2 not_found · 3 conflict · 4 type_mismatch |
//          ok: varuint version, u8 kind 0 plain · 1 counter (f64) · 2 set (varuint n, json*n)
//              · 3 batch (varuint n, per op: u8 op 1 put · 2 delete · 3 get, string key,
//                put: varuint version · delete: u8 found, varuint version ·
//                get: u8 found, found: u8 type, json value, varuint version)
//          not_found: string key · conflict: string key, varuint version ·
//          type_mismatch: string key, u8 type
import { Reader } from '../codec/reader.ts';
import type { Writer } from '../codec/writer.ts';
import { scratchWriter } from '../codec/scratch-writer.ts';
import { readJson, writeJson, type JsonValue } from '../codec/json-value.ts';
import { ErrorCode } from '../errors.ts';
import type { BatchOpResult, KvEntry, KvResult, KvValueType } from './commands.ts';
import { MAX_KEY_BYTES } from './limits.ts';

const FORMAT = 1;
const TYPE_CODES: Record<KvValueType, number> = { register: 1, counter: 2, set: 3 };
const TYPES: readonly (KvValueType | undefined)[] = [undefined, 'register', 'counter', 'set'];
/** Values inside stored records were validated on the way in; this only bounds allocation. */
const MAX_STORED_STRING = 64 * 1024 * 1024;

function readType(r: Reader): KvValueType {
  const code = r.u8();
  const t = TYPES[code];
  if (t === undefined) r.fail(ErrorCode.DecodeType, `unknown value type ${code}`);
  return t;
}

/** The value of an entry after its type byte (the counterpart of readEntryBody). */
function writeEntryBody(w: Writer, type: KvValueType, value: JsonValue): void {
  switch (type) {
    case 'register':
      writeJson(w, value);
      return;
    case 'counter':
      w.f64(value as number);
      return;
    case 'set': {
      const values = value as JsonValue[];
      w.varuint(values.length);
      for (const v of values) writeJson(w, v);
      return;
    }
  }
}

function readEntryBody(r: Reader, type: KvValueType): JsonValue {
  switch (type) {
    case 'register':
      return readJson(r, MAX_STORED_STRING);
    case 'counter': {
      const v = r.f64();
      if (!Number.isFinite(v)) r.fail(ErrorCode.DecodeInvalid, 'non-finite counter');
      return v;
    }
    case 'set': {
      const n = r.count('set element', 1);
      const out: JsonValue[] = new Array(n);
      for (let i = 0; i < n; i++) out[i] = readJson(r, MAX_STORED_STRING);
      return out;
    }
  }
}

export function encodeEntry(e: KvEntry, w = scratchWriter): Uint8Array {
  w.reset();
  w.u8(FORMAT);
  w.u8(TYPE_CODES[e.type]);
  w.varuint(e.version);
  writeEntryBody(w, e.type, e.value);
  return w.finish();
}

export function decodeEntry(bytes: Uint8Array): KvEntry {
  const r: Reader = new Reader(bytes);
  const f = r.u8();
  if (f !== FORMAT) r.fail(ErrorCode.DecodeVersion, `unknown entry format ${f}`);
  const type = readType(r);
  const version = r.varuint();
  const value = readEntryBody(r, type);
  r.end();
  return { type, value, version };
}

export function encodeResult(result: KvResult, w = scratchWriter): Uint8Array {
  w.reset();
  w.u8(FORMAT);
  switch (result.status) {
    case 'ok':
      w.u8(1);
      w.varuint(result.version);
      if (result.results !== undefined) {
        w.u8(3);
        w.varuint(result.results.length);
        for (const op of result.results) writeOpResult(w, op);
      } else if (result.values !== undefined) {
        w.u8(2);
        w.varuint(result.values.length);
        for (const v of result.values) writeJson(w, v);
      } else if (result.value !== undefined) {
        w.u8(1);
        w.f64(result.value);
      } else w.u8(0);
      break;
    case 'not_found':
      w.u8(2);
      w.string(result.key);
      break;
    case 'conflict':
      w.u8(3);
      w.string(result.key);
      w.varuint(result.version);
      break;
    case 'type_mismatch':
      w.u8(4);
      w.string(result.key);
      w.u8(TYPE_CODES[result.actual]);
      break;
  }
  return w.finish();
}

function writeOpResult(w: Writer, op: BatchOpResult): void {
  switch (op.op) {
    case 'put':
      w.u8(1);
      w.string(op.key);
      w.varuint(op.version);
      return;
    case 'delete':
      w.u8(2);
      w.string(op.key);
      w.u8(op.found ? 1 : 0);
      w.varuint(op.version);
      return;
    case 'get':
      w.u8(3);
      w.string(op.key);
      if (!op.found) return w.u8(0);
      w.u8(1);
      w.u8(TYPE_CODES[op.type!]);
      writeEntryBody(w, op.type!, op.value!);
      w.varuint(op.version!);
      return;
  }
}

function readOpResult(r: Reader): BatchOpResult {
  const code = r.u8();
  const key = r.string(MAX_KEY_BYTES);
  switch (code) {
    case 1:
      return { op: 'put', key, version: r.varuint() };
    case 2: {
      const found = r.u8() === 1;
      return { op: 'delete', key, found, version: r.varuint() };
    }
    case 3: {
      if (r.u8() === 0) return { op: 'get', key, found: false };
      const type = readType(r);
      const value = readEntryBody(r, type);
      return { op: 'get', key, found: true, type, value, version: r.varuint() };
    }
    default:
      return r.fail(ErrorCode.DecodeType, `unknown batch op result ${code}`);
  }
}

export function decodeResult(bytes: Uint8Array): KvResult {
  const r: Reader = new Reader(bytes);
  const f = r.u8();
  if (f !== FORMAT) r.fail(ErrorCode.DecodeVersion, `unknown result format ${f}`);
  const status = r.u8();
  let out: KvResult;
  switch (status) {
    case 1: {
      const version = r.varuint();
      const kind = r.u8();
      if (kind === 0) out = { status: 'ok', version };
      else if (kind === 1) out = { status: 'ok', version, value: r.f64() };
      else if (kind === 2) out = { status: 'ok', version, values: readEntryBody(r, 'set') as JsonValue[] };
      else if (kind === 3) {
        const n = r.count('batch result', 3);
        const results: BatchOpResult[] = new Array(n);
        for (let i = 0; i < n; i++) results[i] = readOpResult(r);
        out = { status: 'ok', version, results };
      } else r.fail(ErrorCode.DecodeType, `unknown result kind ${kind}`);
      break;
    }
    case 2:
      out = { status: 'not_found', key: r.string(MAX_KEY_BYTES) };
      break;
    case 3:
      out = { status: 'conflict', key: r.string(MAX_KEY_BYTES), version: r.varuint() };
      break;
    case 4:
      out = { status: 'type_mismatch', key: r.string(MAX_KEY_BYTES), actual: readType(r) };
      break;
    default:
      r.fail(ErrorCode.DecodeType, `unknown result status ${status}`);
  }
  r.end();
  return out;
}
