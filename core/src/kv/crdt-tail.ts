// A CRDT keyspace's tail records (crdt-keyspaces.ts): the deltas each stored apply batch
// joined, kept after the keyspace's base record until the tail is folded into it. Besides
// rebuilding the replica, they are the keyspace's sync log as far back as the base: any node
// (one that just started, or took over a client from another node) can serve a cursor
// between the base and the head entry by entry instead of sending the whole state.
//
//   key  "e" ks NUL hex16(position of the record's first delta)
//   v1   u8 version (1) | varuint n | n × (varuint position | bytes delta)
//   v2   u8 version (2) | varuint n | n × (varuint position | varuint origin | bytes delta)
//
// Positions strictly increase within a record and from one record to the next. v2 keeps
// each delta's origin (the replica that sent it) so a client resumed from storage is not
// sent its own changes back, as a live session does not; v1 records (written by earlier
// versions) decode with the origin unknown.
import type { ReplicaId } from '../clock/replica-id.ts';
import { Reader } from '../codec/reader.ts';
import { Writer } from '../codec/writer.ts';
import { ErrorCode } from '../errors.ts';

export const CRDT_TAIL_PREFIX = 'e';
const TAIL_V1 = 1;
const TAIL_VERSION = 2;
const HEX_DIGITS = 16;

/** One stored delta; `origin` is undefined only in v1 records. */
export interface StoredCrdtDelta {
  readonly position: number;
  readonly bytes: Uint8Array;
  readonly origin: ReplicaId | undefined;
}

/** Every tail record key of `ks` starts with this (keyspace names hold no NUL). */
export function crdtTailPrefix(ks: string): string {
  return `${CRDT_TAIL_PREFIX}${ks}\u0000`;
}

/** Tail record keys of a keyspace sort by the position of their first delta. */
export function crdtTailKey(ks: string, firstPosition: number): string {
  return `${crdtTailPrefix(ks)}${firstPosition.toString(16).padStart(HEX_DIGITS, '0')}`;
}

export function encodeCrdtTail(entries: readonly { readonly position: number; readonly bytes: Uint8Array; readonly origin: ReplicaId }[]): Uint8Array {
  let size = 8;
  for (const e of entries) size += e.bytes.length + 24;
  const w = new Writer(size);
  w.u8(TAIL_VERSION);
  w.varuint(entries.length);
  for (const e of entries) {
    w.varuint(e.position);
    w.varuint(e.origin);
    w.bytes(e.bytes);
  }
  return w.finish();
}

/** Decodes a whole tail record (positions strictly increasing); throws DecodeError. */
export function decodeCrdtTail(bytes: Uint8Array): StoredCrdtDelta[] {
  const out: StoredCrdtDelta[] = [];
  scanCrdtTail(bytes, -1, (d) => {
    out.push(d);
    return true;
  });
  return out;
}

/**
 * Hands the deltas of a tail record positioned after `after` to `take`, in order, until it
 * returns false. Deltas at or before `after` are skipped without copying their bytes, so a
 * reader paging through a large record does not copy it again for every page. Validates
 * only the part it reads (decodeCrdtTail validates the whole record).
 */
export function scanCrdtTail(bytes: Uint8Array, after: number, take: (d: StoredCrdtDelta) => boolean): void {
  const r = new Reader(bytes);
  const v = r.u8();
  if (v !== TAIL_V1 && v !== TAIL_VERSION) r.fail(ErrorCode.DecodeVersion, `unknown crdt tail version ${v}`);
  const n = r.count('crdt tail delta', v === TAIL_V1 ? 2 : 3);
  let prev = -1;
  for (let i = 0; i < n; i++) {
    const position = r.varuint();
    if (position <= prev) r.fail(ErrorCode.DecodeInvalid, 'crdt tail positions out of order');
    prev = position;
    let origin: ReplicaId | undefined;
    if (v !== TAIL_V1) {
      const o = r.varuint();
      if (o === 0) r.fail(ErrorCode.DecodeInvalid, 'crdt tail delta from replica 0');
      origin = o as ReplicaId;
    }
    const length = r.varuint();
    const raw = r.raw(length);
    if (position <= after) continue;
    if (!take({ position, bytes: raw.slice(), origin })) return;
  }
  r.end();
}
