// Binary encoding of the sync messages (messages.ts), one message per transport frame.
//
//   frame   = u8 version | u8 type | varuint channel | body          (all versions keep
//                                                                     this 3-field prefix)
//   hello   = string keyspace | varuint replica | string token
//           | u8 resume (1 = cursor: string logId, varuint position
//                        2 = context: causal context, see codec/causal-context.ts)
//           | u8 hasTransfer [varuint position, varuint checksum, varuint receivedBytes]
//   welcome = varuint replica | string logId | varuint head | u8 mode
//           | (mode = context) causal context
//   refuse  = u8 reason | varuint supportedVersion | string message
//   delta   = varuint seq | varuint position | bytes payload
//   ack     = u8 level (0 stored, 1 committed) | varuint seq | varuint position
//   progress= varuint position | u8 caughtUp
//   chunk   = varuint seq | u8 kind (0 snapshot, 1 delta) | varuint position
//           | varuint totalBytes | varuint checksum | varuint offset | bytes payload
//   error   = u8 code | string message
//   close   = string message
//   presence= varuint peer | u8 present | (present = 1) bytes state   state: one JSON
//             value in the codec/json-value.ts encoding, at most MAX_PRESENCE_BYTES
//   log     = string logId (1..MAX_LOG_ID_BYTES bytes) | varuint position      (since v2)
//
// `version` is the protocol version: every frame this build sends carries
// SYNC_PROTOCOL_VERSION (a hello carries its own `version` field), and it decodes frames of
// MIN_SYNC_PROTOCOL_VERSION..SYNC_PROTOCOL_VERSION only; any other version is DecodeError
// DECODE_VERSION. peekFrameHeader still reads the prefix of any version, so a server
// answers a newer client's hello with `refuse` version-too-new and an older one's with
// `refuse` version-too-old, and a client reports a refusal from an older server as one.
//
// Version 2 added `log` (type 11): a session's log can change identity while it streams
// (the origin's empty keyspace gets its real log at its first commit), and a client that
// could not hear of it would pair the old log id with the new log's positions and be sent
// a whole snapshot at every reconnect. A v1 peer cannot follow that, so v2 refuses v1
// hellos instead of serving them (there were no deployed v1 peers). A v1 client cannot
// decode a v2 frame at all: it ends its session with a DECODE_VERSION error that names
// version 2. `presence` (type 10) came within version 1: a server sends it only to a
// client that sent one first (see presence.ts). The decoder validates every field,
// rejects trailing bytes, and throws only DecodeError.
import type { ReplicaId } from '../clock/replica-id.ts';
import { readCausalContext, writeCausalContext } from '../codec/causal-context.ts';
import { readJson } from '../codec/json-value.ts';
import { Reader } from '../codec/reader.ts';
import { Writer } from '../codec/writer.ts';
import { DecodeError, ErrorCode, assert } from '../errors.ts';
import { REFUSE_REASONS, SYNC_ERROR_CODES } from './errors.ts';
import {
  type AckLevel,
  type ChannelId,
  MIN_SYNC_PROTOCOL_VERSION,
  type Resume,
  SYNC_MODES,
  SYNC_PROTOCOL_VERSION,
  type SyncMessage,
  type SyncMessageType,
  type TransferKind,
} from './messages.ts';

const TYPE_CODES: Record<SyncMessageType, number> = {
  hello: 1,
  welcome: 2,
  refuse: 3,
  delta: 4,
  ack: 5,
  progress: 6,
  chunk: 7,
  error: 8,
  close: 9,
  presence: 10,
  log: 11,
};
const TYPE_NAMES: readonly (SyncMessageType | undefined)[] = [
  undefined, 'hello', 'welcome', 'refuse', 'delta', 'ack', 'progress', 'chunk', 'error', 'close', 'presence', 'log',
];
const ACK_LEVELS: readonly AckLevel[] = ['stored', 'committed'];
const TRANSFER_KINDS: readonly TransferKind[] = ['snapshot', 'delta'];

export const MAX_KEYSPACE_BYTES = 1024;
export const MAX_TOKEN_BYTES = 8192;
export const MAX_LOG_ID_BYTES = 256;
export const MAX_TEXT_BYTES = 4096;
/** Largest encoded presence state, in bytes. */
export const MAX_PRESENCE_BYTES = 4096;

export interface SyncCodecLimits {
  /** Largest delta or chunk payload accepted, in bytes. */
  maxPayloadBytes: number;
}

export const DEFAULT_SYNC_CODEC_LIMITS: SyncCodecLimits = { maxPayloadBytes: 64 << 20 };

export interface FrameHeader {
  readonly version: number;
  readonly type: SyncMessageType | undefined;
  readonly channel: ChannelId;
}

/** Encodes messages; reuses one growable buffer across calls. */
export class SyncEncoder {
  private readonly w = new Writer(256);

  encode(m: SyncMessage): Uint8Array {
    const w = this.w;
    w.reset();
    w.u8(m.type === 'hello' ? m.version : SYNC_PROTOCOL_VERSION);
    w.u8(TYPE_CODES[m.type]);
    w.varuint(m.channel);
    switch (m.type) {
      case 'hello':
        w.string(m.keyspace);
        w.varuint(m.replica);
        w.string(m.token);
        writeResume(w, m.resume);
        if (m.transfer === undefined) w.u8(0);
        else {
          w.u8(1);
          w.varuint(m.transfer.position);
          w.varuint(m.transfer.checksum);
          w.varuint(m.transfer.receivedBytes);
        }
        break;
      case 'welcome':
        w.varuint(m.replica);
        w.string(m.logId);
        w.varuint(m.head);
        w.u8(indexOf(SYNC_MODES, m.mode, 'sync mode'));
        if (m.mode === 'context') {
          assert(m.context !== undefined, 'a context-mode welcome needs the context');
          writeCausalContext(w, m.context);
        }
        break;
      case 'refuse':
        w.u8(indexOf(REFUSE_REASONS, m.reason, 'refuse reason'));
        w.varuint(m.supportedVersion);
        w.string(m.message);
        break;
      case 'delta':
        w.varuint(m.seq);
        w.varuint(m.position);
        w.bytes(m.bytes);
        break;
      case 'ack':
        w.u8(indexOf(ACK_LEVELS, m.level, 'ack level'));
        w.varuint(m.seq);
        w.varuint(m.position);
        break;
      case 'progress':
        w.varuint(m.position);
        w.u8(m.caughtUp ? 1 : 0);
        break;
      case 'chunk':
        w.varuint(m.seq);
        w.u8(indexOf(TRANSFER_KINDS, m.kind, 'transfer kind'));
        w.varuint(m.position);
        w.varuint(m.totalBytes);
        w.varuint(m.checksum);
        w.varuint(m.offset);
        w.bytes(m.bytes);
        break;
      case 'error':
        w.u8(indexOf(SYNC_ERROR_CODES, m.code, 'error code'));
        w.string(m.message);
        break;
      case 'close':
        w.string(m.message);
        break;
      case 'presence':
        w.varuint(m.peer);
        if (m.state === undefined) w.u8(0);
        else {
          assert(m.state.length <= MAX_PRESENCE_BYTES, `presence state of ${m.state.length} bytes exceeds ${MAX_PRESENCE_BYTES}`);
          w.u8(1);
          w.bytes(m.state);
        }
        break;
      case 'log':
        assert(m.logId.length > 0, 'a log message names a log');
        w.string(m.logId);
        w.varuint(m.position);
        break;
    }
    return w.finish();
  }
}

const sharedEncoder = new SyncEncoder();

export function encodeMessage(m: SyncMessage): Uint8Array {
  return sharedEncoder.encode(m);
}

/** Reads the stable prefix of a frame of any version; undefined when even that is malformed. */
export function peekFrameHeader(bytes: Uint8Array): FrameHeader | undefined {
  try {
    const r = new Reader(bytes);
    const version = r.u8();
    const type = TYPE_NAMES[r.u8()];
    const channel = r.varuint();
    return { version, type, channel };
  } catch {
    return undefined;
  }
}

export function decodeMessage(bytes: Uint8Array, limits: SyncCodecLimits = DEFAULT_SYNC_CODEC_LIMITS): SyncMessage {
  const r = new Reader(bytes);
  const version = r.u8();
  if (version < MIN_SYNC_PROTOCOL_VERSION || version > SYNC_PROTOCOL_VERSION) {
    r.pos--;
    r.fail(ErrorCode.DecodeVersion, `sync protocol version ${version} is not supported (this build speaks ${MIN_SYNC_PROTOCOL_VERSION}..${SYNC_PROTOCOL_VERSION})`);
  }
  const typeCode = r.u8();
  const type = TYPE_NAMES[typeCode];
  if (type === undefined) {
    r.pos--;
    return r.fail(ErrorCode.DecodeType, `unknown sync message type ${typeCode}`);
  }
  const channel = r.varuint();
  const m = readBody(r, type, channel, version, limits);
  r.end();
  return m;
}

function readBody(r: Reader, type: SyncMessageType, channel: ChannelId, version: number, limits: SyncCodecLimits): SyncMessage {
  switch (type) {
    case 'hello': {
      const keyspace = r.string(MAX_KEYSPACE_BYTES);
      const replica = r.bounded(1, Number.MAX_SAFE_INTEGER, 'replica id') as ReplicaId;
      const token = r.string(MAX_TOKEN_BYTES);
      const resume = readResume(r);
      const has = readFlag(r, 'transfer flag');
      const transfer = has ? { position: r.varuint(), checksum: r.bounded(0, 0xffffffff, 'checksum'), receivedBytes: r.varuint() } : undefined;
      return { type, channel, version, keyspace, replica, token, resume, transfer };
    }
    case 'welcome': {
      const replica = r.bounded(1, Number.MAX_SAFE_INTEGER, 'replica id') as ReplicaId;
      const logId = r.string(MAX_LOG_ID_BYTES);
      const head = r.varuint();
      const mode = pick(r, SYNC_MODES, 'sync mode');
      const context = mode === 'context' ? readCausalContext(r) : undefined;
      return { type, channel, replica, logId, head, mode, context };
    }
    case 'refuse': {
      const reason = pick(r, REFUSE_REASONS, 'refuse reason');
      const supportedVersion = r.varuint();
      const message = r.string(MAX_TEXT_BYTES);
      return { type, channel, reason, supportedVersion, message };
    }
    case 'delta': {
      const seq = r.bounded(1, Number.MAX_SAFE_INTEGER, 'sequence number');
      const position = r.varuint();
      const bytes = r.bytes(limits.maxPayloadBytes);
      return { type, channel, seq, position, bytes };
    }
    case 'ack': {
      const level = pick(r, ACK_LEVELS, 'ack level');
      const seq = r.bounded(1, Number.MAX_SAFE_INTEGER, 'sequence number');
      const position = r.varuint();
      return { type, channel, level, seq, position };
    }
    case 'progress': {
      const position = r.varuint();
      const caughtUp = readFlag(r, 'caught-up flag');
      return { type, channel, position, caughtUp };
    }
    case 'chunk': {
      const seq = r.bounded(1, Number.MAX_SAFE_INTEGER, 'sequence number');
      const kind = pick(r, TRANSFER_KINDS, 'transfer kind');
      const position = r.varuint();
      const totalBytes = r.bounded(1, Number.MAX_SAFE_INTEGER, 'transfer size');
      const checksum = r.bounded(0, 0xffffffff, 'checksum');
      const offset = r.bounded(0, totalBytes - 1, 'chunk offset');
      const start = r.pos;
      const bytes = r.bytes(limits.maxPayloadBytes);
      if (bytes.length === 0 || offset + bytes.length > totalBytes) {
        throw new DecodeError(ErrorCode.DecodeInvalid, `chunk of ${bytes.length} bytes at ${offset} does not fit a transfer of ${totalBytes}`, start);
      }
      return { type, channel, seq, kind, position, totalBytes, checksum, offset, bytes };
    }
    case 'error': {
      const code = pick(r, SYNC_ERROR_CODES, 'error code');
      const message = r.string(MAX_TEXT_BYTES);
      return { type, channel, code, message };
    }
    case 'close':
      return { type, channel, message: r.string(MAX_TEXT_BYTES) };
    case 'presence': {
      const peer = r.bounded(1, Number.MAX_SAFE_INTEGER, 'replica id') as ReplicaId;
      const present = readFlag(r, 'presence flag');
      const state = present ? readPresenceState(r) : undefined;
      return { type, channel, peer, state };
    }
    case 'log': {
      const start = r.pos;
      const logId = r.string(MAX_LOG_ID_BYTES);
      if (logId === '') throw new DecodeError(ErrorCode.DecodeInvalid, 'a log message must name a log', start);
      return { type, channel, logId, position: r.varuint() };
    }
  }
}

/** The wire index of an enum value; a value outside the list is a bug of the caller. */
function indexOf<T>(values: readonly T[], value: T, what: string): number {
  const i = values.indexOf(value);
  assert(i >= 0, `cannot encode ${what} ${String(value)}`);
  return i;
}

function writeResume(w: Writer, resume: Resume): void {
  if (resume.mode === 'cursor') {
    w.u8(1);
    w.string(resume.logId);
    w.varuint(resume.position);
  } else {
    w.u8(2);
    writeCausalContext(w, resume.context);
  }
}

function readResume(r: Reader): Resume {
  const mode = r.u8();
  if (mode === 1) return { mode: 'cursor', logId: r.string(MAX_LOG_ID_BYTES), position: r.varuint() };
  if (mode === 2) return { mode: 'context', context: readCausalContext(r) };
  r.pos--;
  return r.fail(ErrorCode.DecodeInvalid, `unknown resume mode ${mode}`);
}

/** A presence state: bounded bytes holding exactly one well-formed JSON value. */
function readPresenceState(r: Reader): Uint8Array {
  const start = r.pos;
  const bytes = r.bytes(MAX_PRESENCE_BYTES);
  const inner = new Reader(bytes);
  try {
    readJson(inner, MAX_PRESENCE_BYTES);
    inner.end();
  } catch (e) {
    if (e instanceof DecodeError) throw new DecodeError(e.code, `presence state: ${e.message}`, start);
    throw e;
  }
  return bytes;
}

function readFlag(r: Reader, what: string): boolean {
  const b = r.u8();
  if (b > 1) {
    r.pos--;
    r.fail(ErrorCode.DecodeInvalid, `${what} must be 0 or 1, got ${b}`);
  }
  return b === 1;
}

function pick<T>(r: Reader, values: readonly T[], what: string): T {
  const i = r.u8();
  if (i >= values.length) {
    r.pos--;
    r.fail(ErrorCode.DecodeInvalid, `unknown ${what} ${i}`);
  }
  return values[i]!;
}
