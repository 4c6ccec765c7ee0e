// Compressed state machine snapshots on disk: what a node restores from when its WAL was
// compacted, and (later) what Raft ships to a lagging follower.
//
// File snap-<index, 16 hex>.snap:
//   'NPXS' | u8 format (1) | 3 zero bytes | u64 LE index | u64 LE term |
//   u32 LE raw length | u32 LE CRC-32 of the raw bytes | deflate-raw(raw bytes)
// Written to a temporary name, fsync'd, renamed, directory fsync'd: a crash leaves either
// the old file set or the new one, never a half file under the final name.
import { readdirSync, readFileSync } from 'node:fs';
import { open as openFile, rename, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { crc32, deflateRaw, inflateRawSync } from 'node:zlib';
import { NeuroplexError } from '../../../core/src/errors.ts';

export interface StoredSnapshot {
  readonly index: number;
  readonly term: number;
  readonly data: Uint8Array;
}

export class SnapshotFileError extends NeuroplexError {
  declare readonly code: 'SNAPSHOT_CORRUPT' | 'SNAPSHOT_MISSING';
  readonly file: string;
  constructor(code: 'SNAPSHOT_CORRUPT' | 'SNAPSHOT_MISSING', file: string, reason: string) {
    super(code, `snapshot ${file}: ${reason}`);
    this.name = 'SnapshotFileError';
    this.file = file;
  }
}

const HEADER_BYTES = 32;
const MAGIC = [0x4e, 0x50, 0x58, 0x53];
const NAME = /^snap-([0-9a-f]{16})\.snap$/;
/** Largest snapshot we inflate; a header claiming more is corruption. */
const MAX_RAW_BYTES = 2 ** 32 - 1;

export function snapshotFileName(index: number): string {
  return `snap-${index.toString(16).padStart(16, '0')}.snap`;
}

const deflateRawAsync = promisify(deflateRaw);

/**
 * Encodes a snapshot into the compressed file format (also the wire form to ship).
 * Compression runs on libuv's thread pool, not the event loop.
 */
export async function compressSnapshot(s: StoredSnapshot): Promise<Uint8Array> {
  const body = await deflateRawAsync(s.data, { level: 1 });
  const out = new Uint8Array(HEADER_BYTES + body.length);
  out.set(MAGIC, 0);
  out[4] = 1;
  const view = new DataView(out.buffer);
  view.setBigUint64(8, BigInt(s.index), true);
  view.setBigUint64(16, BigInt(s.term), true);
  view.setUint32(24, s.data.length, true);
  view.setUint32(28, crc32(s.data), true);
  out.set(body, HEADER_BYTES);
  return out;
}

export function decompressSnapshot(bytes: Uint8Array, file: string): StoredSnapshot {
  if (bytes.length < HEADER_BYTES) throw new SnapshotFileError('SNAPSHOT_CORRUPT', file, 'truncated header');
  for (let i = 0; i < 4; i++) if (bytes[i] !== MAGIC[i]) throw new SnapshotFileError('SNAPSHOT_CORRUPT', file, 'bad magic');
  if (bytes[4] !== 1) throw new SnapshotFileError('SNAPSHOT_CORRUPT', file, `unknown format ${bytes[4]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const index = Number(view.getBigUint64(8, true));
  const term = Number(view.getBigUint64(16, true));
  const rawLength = view.getUint32(24, true);
  const sum = view.getUint32(28, true);
  let data: Uint8Array;
  try {
    data = new Uint8Array(inflateRawSync(bytes.subarray(HEADER_BYTES), { maxOutputLength: Math.min(MAX_RAW_BYTES, rawLength + 1) }));
  } catch (cause) {
    throw new SnapshotFileError('SNAPSHOT_CORRUPT', file, `cannot inflate: ${(cause as Error).message}`);
  }
  if (data.length !== rawLength || crc32(data) !== sum) throw new SnapshotFileError('SNAPSHOT_CORRUPT', file, 'checksum mismatch');
  return { index, term, data };
}

/** Writes the snapshot durably (off the event loop) and removes older snapshot files. */
export async function writeSnapshotFile(dir: string, s: StoredSnapshot): Promise<string> {
  const name = snapshotFileName(s.index);
  const tmp = join(dir, `${name}.tmp`);
  const bytes = await compressSnapshot(s);
  const fh = await openFile(tmp, 'w');
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, join(dir, name));
  const dh = await openFile(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
  for (const other of readdirSync(dir)) {
    const m = NAME.exec(other);
    if (m !== null && Number.parseInt(m[1]!, 16) < s.index) await rm(join(dir, other), { force: true });
    else if (other.endsWith('.snap.tmp') && other !== `${name}.tmp`) await rm(join(dir, other), { force: true });
  }
  return name;
}

/** Reads the snapshot at exactly `index`; SNAPSHOT_MISSING when there is none. */
export function readSnapshotFile(dir: string, index: number): StoredSnapshot {
  const name = snapshotFileName(index);
  let file: Buffer;
  try {
    file = readFileSync(join(dir, name));
  } catch {
    throw new SnapshotFileError('SNAPSHOT_MISSING', name, `no snapshot file for index ${index}`);
  }
  const s = decompressSnapshot(new Uint8Array(file.buffer, file.byteOffset, file.byteLength), name);
  if (s.index !== index) throw new SnapshotFileError('SNAPSHOT_CORRUPT', name, `header says index ${s.index}`);
  return s;
}
