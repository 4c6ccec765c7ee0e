// The client session table (Ongaro's thesis, §6.3): the first answer to each `clientId/seq`,
// kept in the replicated state so every replica (and every snapshot) agrees on which
// requests were already applied. A retried request gets its first answer and changes nothing.
//
// Bounded: at most `maxSessions` answers. When a new answer would exceed the bound, the one
// recorded at the lowest log index is evicted (oldest first; deterministic on every replica
// because it depends only on the log). A retry whose answer was evicted applies again, so
// the bound must comfortably exceed (clients x requests in flight); the default of 100,000
// covers 1,000 clients with 100 outstanding requests each.
//
// Stored as  's' + clientId + '\0' + seq  ->  u8 format (1) | varuint logIndex | result bytes
import { Reader } from '../codec/reader.ts';
import { Writer } from '../codec/writer.ts';
import { ErrorCode } from '../errors.ts';
import type { KvResult, KvSession } from './commands.ts';
import { decodeResult, encodeResult } from './record-codec.ts';
import type { KvStorage, StorageOp } from './storage.ts';

export const SESSION_PREFIX = 's';
export const DEFAULT_MAX_SESSIONS = 100_000;

export function sessionKey(s: KvSession): string {
  return `${SESSION_PREFIX}${s.clientId}\u0000${s.seq}`;
}

export function encodeSessionRecord(logIndex: number, result: KvResult, w = new Writer()): Uint8Array {
  const body = encodeResult(result);
  w.reset();
  w.u8(1);
  w.varuint(logIndex);
  w.raw(body);
  return w.finish();
}

export function decodeSessionRecord(bytes: Uint8Array): { logIndex: number; result: KvResult } {
  const r: Reader = new Reader(bytes);
  const f = r.u8();
  if (f !== 1) r.fail(ErrorCode.DecodeVersion, `unknown session record format ${f}`);
  const logIndex = r.varuint();
  return { logIndex, result: decodeResult(bytes.subarray(r.pos)) };
}

export class SessionTable {
  readonly maxSessions: number;
  private readonly storage: KvStorage;
  /** Invariant: holds exactly the session keys in storage, in ascending log index order. */
  private order: Map<string, number>;

  constructor(storage: KvStorage, maxSessions = DEFAULT_MAX_SESSIONS) {
    this.storage = storage;
    this.maxSessions = maxSessions;
    this.order = new Map();
    this.reload();
  }

  get size(): number {
    return this.order.size;
  }

  /** Rebuilds the eviction order from storage (after open or a snapshot restore). */
  reload(): void {
    const found: [string, number][] = [];
    for (const e of this.storage.range({ gte: SESSION_PREFIX, lt: String.fromCharCode(SESSION_PREFIX.charCodeAt(0) + 1) })) {
      found.push([e.key, decodeSessionRecord(e.value).logIndex]);
    }
    found.sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
    this.order = new Map(found);
  }

  /** Whether an answer for this request is recorded (possibly still in an unwritten batch). */
  has(s: KvSession): boolean {
    return this.order.has(sessionKey(s));
  }

  lookup(s: KvSession): KvResult | undefined {
    const key = sessionKey(s);
    if (!this.order.has(key)) return undefined;
    const bytes = this.storage.get(key);
    return bytes === undefined ? undefined : decodeSessionRecord(bytes).result;
  }

  /** Adds the ops that record `result` (and evict the oldest answers) to `ops`. */
  record(s: KvSession, logIndex: number, result: KvResult, ops: StorageOp[]): void {
    const key = sessionKey(s);
    ops.push({ type: 'put', key, value: encodeSessionRecord(logIndex, result) });
    this.order.set(key, logIndex);
    while (this.order.size > this.maxSessions) {
      const oldest = this.order.keys().next().value as string;
      this.order.delete(oldest);
      ops.push({ type: 'delete', key: oldest });
    }
  }
}
