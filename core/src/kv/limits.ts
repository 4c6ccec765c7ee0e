// Limits on keys, values and names, checked before a command is proposed and again by the
// decoder, so an oversized or malformed command never reaches the log.
import { KvErrorCode, KvLimitError } from './errors.ts';

export const MAX_KEY_BYTES = 1024;
export const DEFAULT_MAX_VALUE_BYTES = 1024 * 1024;
export const MAX_KEYSPACE_BYTES = 64;
export const MAX_CLIENT_ID_BYTES = 128;
export const MAX_BATCH_OPS = 1024;
export const DEFAULT_KEYSPACE = 'default';

const KEYSPACE_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

/** UTF-8 length of a string, or -1 when it holds a lone surrogate (not encodable). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (d < 0xdc00 || d > 0xdfff) return -1;
      n += 4;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return -1;
    else n += 3;
  }
  return n;
}

export function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new KvLimitError(KvErrorCode.KeyInvalid, 'a key is a non-empty string');
  }
  const n = utf8Length(key);
  if (n < 0) throw new KvLimitError(KvErrorCode.KeyInvalid, 'a key must be valid UTF-8 (lone surrogate)');
  if (n > MAX_KEY_BYTES) {
    throw new KvLimitError(KvErrorCode.KeyTooLarge, `key of ${n} bytes exceeds ${MAX_KEY_BYTES}`);
  }
}

export function isKeyspace(ks: unknown): ks is string {
  return typeof ks === 'string' && KEYSPACE_PATTERN.test(ks);
}

export function checkKeyspace(ks: unknown): asserts ks is string {
  if (!isKeyspace(ks)) {
    throw new KvLimitError(KvErrorCode.CommandInvalid, 'a keyspace is 1-64 characters of A-Z a-z 0-9 _ . -');
  }
}

export function checkVersion(v: unknown, what: string): asserts v is number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new KvLimitError(KvErrorCode.CommandInvalid, `${what} must be a non-negative integer`);
  }
}
