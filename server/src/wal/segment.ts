// Segment files: naming, the fixed header, and scanning one segment's bytes into records.
//
// Header (20 bytes): 'NPXW' | u8 format (1) | 3 zero bytes | u64 LE segment sequence |
//                    u32 LE CRC-32 of the first 16 bytes
// Then frames (record.ts) back to back. Every segment starts with the current hard state
// and snapshot metadata, so deleting older segments never loses them. The last segment may
// end in zeros: space the log wrote ahead (wal.ts, preallocation) and has not filled yet.
import { crc32 } from 'node:zlib';
import { DecodeError } from '../../../core/src/errors.ts';
import { WalCorruptError } from './errors.ts';
import { checkFrame, decodePayload, type WalRecord } from './record.ts';

export const SEGMENT_HEADER_BYTES = 20;
const MAGIC = [0x4e, 0x50, 0x58, 0x57]; // NPXW
const FORMAT = 1;
const NAME_PATTERN = /^wal-([0-9a-f]{16})\.log$/;

export function segmentName(seq: number): string {
  return `wal-${seq.toString(16).padStart(16, '0')}.log`;
}

/** The sequence number in a segment file name, or undefined for other files. */
export function parseSegmentName(name: string): number | undefined {
  const m = NAME_PATTERN.exec(name);
  return m === null ? undefined : Number.parseInt(m[1]!, 16);
}

export function segmentHeader(seq: number): Uint8Array {
  const out = new Uint8Array(SEGMENT_HEADER_BYTES);
  out.set(MAGIC, 0);
  out[4] = FORMAT;
  const view = new DataView(out.buffer);
  view.setBigUint64(8, BigInt(seq), true);
  view.setUint32(16, crc32(out.subarray(0, 16)), true);
  return out;
}

export interface ScannedRecord {
  readonly record: WalRecord;
  readonly offset: number;
}

export interface SegmentScan {
  readonly records: ScannedRecord[];
  /** Byte length of the valid prefix (header plus whole, checked records). */
  readonly validBytes: number;
  /** Bytes of zeros after the valid prefix (preallocated space of the last segment). */
  readonly zeroTailBytes: number;
  /** Set when a torn or corrupt tail was found (only ever in the last segment). */
  readonly tail?: { readonly offset: number; readonly reason: string };
}

/**
 * Scans a segment. In the last segment a bad record with no valid record after it is a torn
 * tail (a write that never finished its fsync, so never acknowledged): reported, not thrown.
 * A bad record followed by a valid one, or a bad record in any earlier segment, is corruption
 * in the middle of the log: WalCorruptError with the file and byte offset.
 *
 * Zeros from a record boundary to the end of the last segment are not a tail to cut: they
 * are space preallocated ahead of the writes (we never write a zero-length frame).
 *
 * Limit of this rule: when a crash tears a multi-record write so that a later page reached
 * the disk but an earlier one did not, the result looks like middle corruption and the node
 * refuses to start (safe, but needs an operator); the reverse mistake cannot happen.
 */
export function scanSegment(buf: Uint8Array, file: string, seq: number, isLast: boolean): SegmentScan {
  const records: ScannedRecord[] = [];
  if (buf.length < SEGMENT_HEADER_BYTES) {
    if (isLast) return { records, validBytes: 0, zeroTailBytes: 0, tail: { offset: 0, reason: 'truncated segment header' } };
    throw new WalCorruptError(file, 0, 'truncated segment header');
  }
  checkHeader(buf, file, seq);
  let pos = SEGMENT_HEADER_BYTES;
  while (pos < buf.length) {
    const frame = checkFrame(buf, pos);
    if (!frame.ok) {
      if (!isLast) throw new WalCorruptError(file, pos, frame.reason);
      if (allZero(buf, pos)) return { records, validBytes: pos, zeroTailBytes: buf.length - pos };
      if (frame.claimedEnd > 0 && frame.claimedEnd < buf.length && checkFrame(buf, frame.claimedEnd).ok) {
        throw new WalCorruptError(file, pos, `${frame.reason}, followed by valid records`);
      }
      return { records, validBytes: pos, zeroTailBytes: 0, tail: { offset: pos, reason: frame.reason } };
    }
    let record: WalRecord;
    try {
      record = decodePayload(frame.payload);
    } catch (cause) {
      // The checksum matched, so these are the bytes we wrote: a bug or a foreign file.
      const why = cause instanceof DecodeError ? cause.message : String(cause);
      throw new WalCorruptError(file, pos, `undecodable record: ${why}`);
    }
    records.push({ record, offset: pos });
    pos = frame.end;
  }
  return { records, validBytes: pos, zeroTailBytes: 0 };
}

function allZero(buf: Uint8Array, from: number): boolean {
  for (let i = from; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}

function checkHeader(buf: Uint8Array, file: string, seq: number): void {
  for (let i = 0; i < MAGIC.length; i++) {
    if (buf[i] !== MAGIC[i]) throw new WalCorruptError(file, 0, 'not a Neuroplex WAL segment (bad magic)');
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (view.getUint32(16, true) !== crc32(buf.subarray(0, 16))) throw new WalCorruptError(file, 0, 'segment header checksum mismatch');
  if (buf[4] !== FORMAT) throw new WalCorruptError(file, 4, `unknown segment format ${buf[4]}`);
  const stored = Number(view.getBigUint64(8, true));
  if (stored !== seq) throw new WalCorruptError(file, 8, `header says segment ${stored}, name says ${seq}`);
}
