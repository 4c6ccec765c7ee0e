// What the write-ahead log stores, and how one record is framed on disk.
//
// Frame:   u32 LE payload length | u32 LE CRC-32 of the payload | payload
// Payload: u8 type, then
//   1 entry      varuint index, varuint term, u8 entry type, bytes data
//   2 hard state varuint term, string vote ('' = none), varuint commit
//   3 snapshot   varuint index, varuint term, bytes data (opaque: membership etc.)
//   4 truncate   varuint fromIndex (entries >= fromIndex are gone)
//
// CRC-32 (IEEE, node:zlib's native crc32) rather than CRC32C: Node has no native CRC32C, and
// for detecting torn and flipped bytes in our own files both are equally good.
import { crc32 } from 'node:zlib';
import { Reader } from '../../../core/src/codec/reader.ts';
import { Writer } from '../../../core/src/codec/writer.ts';
import { ErrorCode } from '../../../core/src/errors.ts';

export interface WalEntry {
  readonly index: number;
  readonly term: number;
  /** Raft's entry type (normal, config change...); the WAL does not interpret it. */
  readonly type: number;
  readonly data: Uint8Array;
}

export interface HardState {
  readonly term: number;
  /** Node voted for in `term`; '' for none. */
  readonly vote: string;
  readonly commit: number;
}

export interface SnapshotMeta {
  readonly index: number;
  readonly term: number;
  readonly data: Uint8Array;
}

export const RecordType = { Entry: 1, HardState: 2, Snapshot: 3, Truncate: 4 } as const;

export type WalRecord =
  | { readonly type: 1; readonly entry: WalEntry }
  | { readonly type: 2; readonly hardState: HardState }
  | { readonly type: 3; readonly snapshot: SnapshotMeta }
  | { readonly type: 4; readonly fromIndex: number };

export const FRAME_HEADER_BYTES = 8;
/** Largest payload a frame may claim; a larger length is corruption, not a record. */
export const MAX_RECORD_BYTES = 64 * 1024 * 1024;
const MAX_VOTE_BYTES = 256;

const NO_HEADER = new Uint8Array(FRAME_HEADER_BYTES);

/** Encodes a record and its frame into one buffer. */
export function frameRecord(rec: WalRecord, w: Writer): Uint8Array {
  w.reset();
  appendFrame(rec, w);
  return w.finish();
}

/**
 * Appends a record's frame at the writer's position (nothing allocated but the checksum's
 * view): the write-ahead log frames a whole batch into one buffer this way.
 */
export function appendFrame(rec: WalRecord, w: Writer): void {
  const at = w.pos;
  w.raw(NO_HEADER);
  w.u8(rec.type);
  switch (rec.type) {
    case 1:
      w.varuint(rec.entry.index);
      w.varuint(rec.entry.term);
      w.u8(rec.entry.type);
      w.bytes(rec.entry.data);
      break;
    case 2:
      w.varuint(rec.hardState.term);
      w.string(rec.hardState.vote);
      w.varuint(rec.hardState.commit);
      break;
    case 3:
      w.varuint(rec.snapshot.index);
      w.varuint(rec.snapshot.term);
      w.bytes(rec.snapshot.data);
      break;
    case 4:
      w.varuint(rec.fromIndex);
      break;
  }
  const buf = w.buf;
  putU32le(buf, at, w.pos - at - FRAME_HEADER_BYTES);
  putU32le(buf, at + 4, crc32(buf.subarray(at + FRAME_HEADER_BYTES, w.pos)));
}

function putU32le(buf: Uint8Array, at: number, v: number): void {
  buf[at] = v & 0xff;
  buf[at + 1] = (v >>> 8) & 0xff;
  buf[at + 2] = (v >>> 16) & 0xff;
  buf[at + 3] = (v >>> 24) & 0xff;
}

/** Decodes a payload whose checksum already matched; throws DecodeError if malformed. */
export function decodePayload(payload: Uint8Array): WalRecord {
  const r: Reader = new Reader(payload);
  const type = r.u8();
  let rec: WalRecord;
  switch (type) {
    case 1: {
      const index = r.varuint();
      const term = r.varuint();
      const entryType = r.u8();
      rec = { type: 1, entry: { index, term, type: entryType, data: r.bytes(MAX_RECORD_BYTES) } };
      break;
    }
    case 2: {
      const term = r.varuint();
      const vote = r.string(MAX_VOTE_BYTES);
      rec = { type: 2, hardState: { term, vote, commit: r.varuint() } };
      break;
    }
    case 3: {
      const index = r.varuint();
      const term = r.varuint();
      rec = { type: 3, snapshot: { index, term, data: r.bytes(MAX_RECORD_BYTES) } };
      break;
    }
    case 4:
      rec = { type: 4, fromIndex: r.varuint() };
      break;
    default:
      r.pos = 0;
      r.fail(ErrorCode.DecodeType, `unknown WAL record type ${type}`);
  }
  r.end();
  return rec;
}

export type FrameCheck =
  | { readonly ok: true; readonly payload: Uint8Array; readonly end: number }
  | { readonly ok: false; readonly reason: string; readonly claimedEnd: number };

/** Checks the frame at `pos`: header present, length sane and in bounds, checksum matches. */
export function checkFrame(buf: Uint8Array, pos: number): FrameCheck {
  if (buf.length - pos < FRAME_HEADER_BYTES) return { ok: false, reason: 'truncated frame header', claimedEnd: buf.length };
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const length = view.getUint32(pos, true);
  const sum = view.getUint32(pos + 4, true);
  if (length === 0 || length > MAX_RECORD_BYTES) return { ok: false, reason: `bad record length ${length}`, claimedEnd: -1 };
  const end = pos + FRAME_HEADER_BYTES + length;
  if (end > buf.length) return { ok: false, reason: `record of ${length} bytes runs past the end of the file`, claimedEnd: end };
  const payload = buf.subarray(pos + FRAME_HEADER_BYTES, end);
  if (crc32(payload) !== sum) return { ok: false, reason: 'checksum mismatch', claimedEnd: end };
  return { ok: true, payload, end };
}
