// The envelope of a client write inside a Raft entry: which node's request it answers, then
// the command bytes (core/src/kv/command-codec.ts).
//
//   v2 = u8 version (2) | 6 bytes origin | varuint seq | command bytes
//   v1 = u8 version (1) | string requestId | command bytes          (older logs; still read)
//
// `origin` is random per node process, `seq` counts that process's proposals. Every node
// applies every entry, but only the process that took a request answers it: with v2 it
// finds its own by comparing 6 bytes and looking up a number, where v1 made every node
// decode and hash a string per write. A v1 entry is never answered after a restart (its
// process is gone), so v1 decodes as "not mine".
import { Reader } from '../../../core/src/codec/reader.ts';
import { varuintSize } from '../../../core/src/codec/writer.ts';
import { DecodeError, ErrorCode } from '../../../core/src/errors.ts';
import { decodeCommand, type CommandLimits } from '../../../core/src/kv/command-codec.ts';
import type { KvCommand } from '../../../core/src/kv/commands.ts';

export const ENVELOPE_VERSION = 2;
const ENVELOPE_V1 = 1;
export const ORIGIN_BYTES = 6;

export interface OpenedEnvelope {
  /** The request's number when this process proposed it, else -1. */
  readonly seq: number;
  readonly command: KvCommand;
}

/**
 * One copy of the command bytes (they may be a view of a socket buffer), into a slice of
 * Node's shared buffer pool: a small array of its own would live inside the JavaScript heap,
 * and the first Reader over it (on apply) would pay ~1.5 µs to move it out.
 */
export function encodeEnvelope(origin: Uint8Array, seq: number, command: Uint8Array): Uint8Array {
  const size = 1 + ORIGIN_BYTES + varuintSize(seq) + command.length;
  const pooled = Buffer.allocUnsafe(size);
  // A plain Uint8Array view (Buffer#slice would alias where callers expect a copy).
  const out = new Uint8Array(pooled.buffer, pooled.byteOffset, size);
  out[0] = ENVELOPE_VERSION;
  out.set(origin, 1);
  let pos = 1 + ORIGIN_BYTES;
  let v = seq;
  while (v >= 0x80) {
    out[pos++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  out[pos++] = v;
  out.set(command, pos);
  return out;
}

/**
 * Decodes an entry's envelope and command (DecodeError when malformed). `proposed` gives
 * the command this process decoded from the same bytes when it proposed them, if it still
 * has it: the node that took a write then does not decode it a second time on apply.
 */
export function decodeEnvelope(bytes: Uint8Array, origin: Uint8Array, limits: CommandLimits, proposed?: (seq: number) => KvCommand | undefined): OpenedEnvelope {
  const r = new Reader(bytes);
  const version = r.u8();
  if (version === ENVELOPE_VERSION) {
    let mine = bytes.length > ORIGIN_BYTES;
    for (let i = 0; i < ORIGIN_BYTES && mine; i++) mine = bytes[1 + i] === origin[i];
    r.raw(ORIGIN_BYTES);
    const seq = r.varuint();
    if (!mine) return { seq: -1, command: decodeCommand(bytes.subarray(r.pos), limits) };
    return { seq, command: proposed?.(seq) ?? decodeCommand(bytes.subarray(r.pos), limits) };
  }
  if (version === ENVELOPE_V1) {
    r.string(256);
    return { seq: -1, command: decodeCommand(bytes.subarray(r.pos), limits) };
  }
  throw new DecodeError(ErrorCode.DecodeVersion, `unknown entry envelope version ${version}`, 0);
}
