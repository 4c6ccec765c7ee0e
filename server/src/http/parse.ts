// Request parsing for the Origin HTTP API: the URL-encoded key in the path, numeric query
// parameters, JSON bodies and the Idempotency-Key header. Every failure is an ApiError with a
// 400-class code; nothing here throws anything else.
import type { Context } from 'hono';
import type { JsonValue } from '../../../core/src/codec/json-value.ts';
import type { KvSession } from '../../../core/src/kv/commands.ts';
import { DEFAULT_KEYSPACE, MAX_CLIENT_ID_BYTES, isKeyspace, utf8Length } from '../../../core/src/kv/limits.ts';
import { ApiError, HttpErrorCode } from './errors.ts';

/** The raw (still percent-encoded) path of a request, without query or fragment. */
function rawPath(url: string): string {
  const start = url.indexOf('/', url.indexOf(':') + 3);
  let end = url.length;
  const q = url.indexOf('?', start);
  const h = url.indexOf('#', start);
  if (q !== -1) end = q;
  if (h !== -1 && h < end) end = h;
  return url.slice(start, end);
}

/** The key after `prefix` (e.g. '/v1/kv/'), percent-decoded; may contain ':' and '/'. */
export function keyFromPath(c: Context, prefix: string): string {
  const path = rawPath(c.req.url);
  const encoded = path.startsWith(prefix) ? path.slice(prefix.length) : '';
  try {
    return decodeURIComponent(encoded);
  } catch {
    throw new ApiError(HttpErrorCode.BadRequest, 'the key is not valid percent-encoded UTF-8');
  }
}

export function keyspace(c: Context): string {
  const ks = c.req.query('ks') ?? DEFAULT_KEYSPACE;
  if (!isKeyspace(ks)) throw new ApiError(HttpErrorCode.BadRequest, 'ks is 1-64 characters of A-Z a-z 0-9 _ . -');
  return ks;
}

/** A non-negative integer query parameter, or undefined when absent. */
export function intQuery(c: Context, name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const raw = c.req.query(name);
  if (raw === undefined) return undefined;
  if (!/^\d{1,16}$/.test(raw)) throw new ApiError(HttpErrorCode.BadRequest, `${name} must be a non-negative integer`);
  const v = Number(raw);
  if (v < min || v > max) throw new ApiError(HttpErrorCode.BadRequest, `${name} must be in ${min}..${max}`);
  return v;
}

export const DEFAULT_TIMEOUT_MS = 5000;
export const MAX_TIMEOUT_MS = 120_000;

export function timeoutMs(c: Context): number {
  return intQuery(c, 'timeout', 1, MAX_TIMEOUT_MS) ?? DEFAULT_TIMEOUT_MS;
}

/** The JSON object body of a request: 400 BAD_JSON when missing, malformed or not an object. */
export async function jsonObject(c: Context): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await c.req.text();
  } catch {
    throw new ApiError(HttpErrorCode.BadJson, 'could not read the request body');
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ApiError(HttpErrorCode.BadJson, 'the body is not valid JSON');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ApiError(HttpErrorCode.BadJson, 'the body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

export function optionalVersion(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new ApiError(HttpErrorCode.BadRequest, `${name} must be a non-negative integer`);
  }
  return value;
}

export function requiredValue(body: Record<string, unknown>, name: string): JsonValue {
  if (!(name in body) || body[name] === undefined) throw new ApiError(HttpErrorCode.BadRequest, `"${name}" is required`);
  return body[name] as JsonValue;
}

/** `Idempotency-Key: <client>/<seq>` as a session, or undefined when absent. */
export function session(c: Context): KvSession | undefined {
  const raw = c.req.header('Idempotency-Key');
  if (raw === undefined) return undefined;
  const slash = raw.lastIndexOf('/');
  const clientId = raw.slice(0, slash);
  const seq = raw.slice(slash + 1);
  const n = utf8Length(clientId);
  if (slash <= 0 || n < 1 || n > MAX_CLIENT_ID_BYTES || !/^\d{1,15}$/.test(seq)) {
    throw new ApiError(HttpErrorCode.BadRequest, `Idempotency-Key must be <client>/<seq> (client 1-${MAX_CLIENT_ID_BYTES} bytes, seq an integer)`);
  }
  return { clientId, seq: Number(seq) };
}
