// Binary encoding of JSON values (register contents, set elements, map leaves).
//
//   tag (1 byte) | payload
//   0 null · 1 false · 2 true · 3 uint (varuint) · 4 negative int (varuint of -v)
//   5 float64 (8 bytes LE) · 6 string (varuint length + UTF-8)
//   7 array (varuint count, values) · 8 object (varuint count, (string key, value)*)
import { ErrorCode } from '../errors.ts';
import type { Reader } from './reader.ts';
import type { Writer } from './writer.ts';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

const Tag = { Null: 0, False: 1, True: 2, Uint: 3, NegInt: 4, Float: 5, String: 6, Array: 7, Object: 8 } as const;

export const MAX_JSON_DEPTH = 64;

export function writeJson(w: Writer, value: JsonValue, depth = 0): void {
  if (depth > MAX_JSON_DEPTH) throw new RangeError(`JSON value nested deeper than ${MAX_JSON_DEPTH}`);
  if (value === null) return w.u8(Tag.Null);
  switch (typeof value) {
    case 'boolean':
      return w.u8(value ? Tag.True : Tag.False);
    case 'number':
      if (Number.isSafeInteger(value) && !Object.is(value, -0)) {
        if (value >= 0) {
          w.u8(Tag.Uint);
          w.varuint(value);
        } else {
          w.u8(Tag.NegInt);
          w.varuint(-value);
        }
      } else {
        if (!Number.isFinite(value)) throw new RangeError('JSON numbers must be finite');
        w.u8(Tag.Float);
        w.f64(value);
      }
      return;
    case 'string':
      w.u8(Tag.String);
      return w.string(value);
    case 'object':
      if (Array.isArray(value)) {
        w.u8(Tag.Array);
        w.varuint(value.length);
        for (const item of value) writeJson(w, item, depth + 1);
      } else {
        const keys = Object.keys(value);
        w.u8(Tag.Object);
        w.varuint(keys.length);
        for (const key of keys) {
          w.string(key);
          writeJson(w, value[key]!, depth + 1);
        }
      }
      return;
    default:
      throw new TypeError(`not a JSON value: ${typeof value}`);
  }
}

export function readJson(r: Reader, maxStringBytes: number, depth = 0): JsonValue {
  if (depth > MAX_JSON_DEPTH) r.fail(ErrorCode.DecodeInvalid, `JSON value nested deeper than ${MAX_JSON_DEPTH}`);
  const tag = r.u8();
  switch (tag) {
    case Tag.Null:
      return null;
    case Tag.False:
      return false;
    case Tag.True:
      return true;
    case Tag.Uint:
      return r.varuint();
    case Tag.NegInt: {
      const v = r.varuint();
      if (v === 0) r.fail(ErrorCode.DecodeInvalid, 'negative zero integer');
      return -v;
    }
    case Tag.Float: {
      const v = r.f64();
      if (!Number.isFinite(v)) r.fail(ErrorCode.DecodeInvalid, 'non-finite number');
      return v;
    }
    case Tag.String:
      return r.string(maxStringBytes);
    case Tag.Array: {
      const n = r.count('array', 1);
      const out: JsonValue[] = new Array(n);
      for (let i = 0; i < n; i++) out[i] = readJson(r, maxStringBytes, depth + 1);
      return out;
    }
    case Tag.Object: {
      const n = r.count('object', 2);
      const out: { [key: string]: JsonValue } = {};
      for (let i = 0; i < n; i++) {
        const key = r.string(maxStringBytes);
        if (key === '__proto__') r.fail(ErrorCode.DecodeInvalid, 'object key __proto__ is not allowed');
        out[key] = readJson(r, maxStringBytes, depth + 1);
      }
      return out;
    }
    default:
      r.fail(ErrorCode.DecodeType, `unknown JSON value tag ${tag}`);
  }
}

/** Checks that `value` is plain JSON (finite numbers, no undefined, no cycles). */
export function isJsonValue(value: unknown, depth = 0): value is JsonValue {
  if (depth > MAX_JSON_DEPTH) return false;
  if (value === null) return true;
  switch (typeof value) {
    case 'boolean':
    case 'string':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      if (Array.isArray(value)) return value.every((v) => isJsonValue(v, depth + 1));
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return false;
      for (const key of Object.keys(value)) {
        if (!isJsonValue((value as Record<string, unknown>)[key], depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

/**
 * The identity of a set element: equal values give equal keys, different values
 * different keys. Strings and numbers take a fast path (a string gets a `"` prefix, which
 * no other kind of key starts with, and no escaping); the rest use canonicalJson. Keys
 * appear on the wire (removal paths), so this function is part of the format.
 */
export function elementKey(value: JsonValue): string {
  switch (typeof value) {
    case 'string':
      return `"${value}`;
    case 'number':
      return Object.is(value, -0) ? '0' : String(value);
    default:
      return canonicalJson(value);
  }
}

/**
 * A canonical string for a JSON value: equal values give equal strings (object keys
 * sorted).
 */
export function canonicalJson(value: JsonValue): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k]!)}`).join(',')}}`;
}
