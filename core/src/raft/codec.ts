// Binary encoding of Raft messages, entries, hard state and configuration-change data.
// Origin nodes put these bytes on real sockets and in the WAL, so the decoder validates
// everything and throws DecodeError; it never returns a partially valid message.
//
// Message, version 1 (vu = unsigned LEB128 varint, bytes = vu length + raw bytes):
//
//   +-----+------+----+------+------+---------+-------+--------+-------+------------+---------+
//   | ver | type | to | from | term | logTerm | index | commit | flags | rejectHint | context |
//   | u8  | u8   | vu | vu   | vu   | vu      | vu    | vu     | u8    | vu         | bytes   |
//   +-----+------+----+------+------+---------+-------+--------+-------+------------+---------+
//   | nEntries vu | entry * nEntries | snapshot (only if flags bit 1) |
//   +-------------+------------------+--------------------------------+
//   flags: bit 0 = reject, bit 1 = has snapshot; other bits must be 0.
//
//   entry:    | term vu | index vu | type u8 | data bytes |
//   snapshot: | index vu | term vu | confState | data bytes |
//   confState:| nVoters vu | id vu * nVoters | nLearners vu | id vu * nLearners |
//
// Entries of an Append message must have consecutive indexes starting at index + 1; entries
// of a forwarded Propose may have index and term 0. Only responses may set the reject flag.
//
// Configuration-change entry data, version 1:
//   | ver u8 | changeType u8 | nodeId vu | context bytes | confState (the resulting configuration) |
//
// Hard state, version 1: | ver u8 | term vu | vote vu | commit vu |
import { Reader } from '../codec/reader.ts';
import { Writer } from '../codec/writer.ts';
import { scratchWriter } from '../codec/scratch-writer.ts';
import { DecodeError, ErrorCode } from '../errors.ts';
import {
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type MessageType,
  type Snapshot,
  ConfChangeType,
  EMPTY_BYTES,
  EntryType,
  MAX_MESSAGE_TYPE,
  MessageType as MT,
} from './types.ts';

export const RAFT_CODEC_VERSION = 1;
/** Largest entry data, snapshot data or context accepted by the decoder. */
export const MAX_DATA_BYTES = 256 << 20;
/** Largest configuration accepted by the decoder. */
export const MAX_MEMBERS = 1024;

const FLAG_REJECT = 1;
const FLAG_SNAPSHOT = 2;

function writeConfState(w: Writer, cs: ConfState): void {
  w.varuint(cs.voters.length);
  for (const id of cs.voters) w.varuint(id);
  w.varuint(cs.learners.length);
  for (const id of cs.learners) w.varuint(id);
}

function writeEntry(w: Writer, e: Entry): void {
  w.varuint(e.term);
  w.varuint(e.index);
  w.u8(e.type);
  w.bytes(e.data);
}

/** Encodes a message; the result is a fresh copy. */
export function encodeMessage(m: Message): Uint8Array {
  const w = scratchWriter;
  w.reset();
  w.u8(RAFT_CODEC_VERSION);
  w.u8(m.type);
  w.varuint(m.to);
  w.varuint(m.from);
  w.varuint(m.term);
  w.varuint(m.logTerm);
  w.varuint(m.index);
  w.varuint(m.commit);
  w.u8((m.reject ? FLAG_REJECT : 0) | (m.snapshot !== null ? FLAG_SNAPSHOT : 0));
  w.varuint(m.rejectHint);
  w.bytes(m.context);
  w.varuint(m.entries.length);
  for (let k = 0; k < m.entries.length; k++) writeEntry(w, m.entries[k]!);
  if (m.snapshot !== null) {
    const md = m.snapshot.metadata;
    w.varuint(md.index);
    w.varuint(md.term);
    writeConfState(w, md.confState);
    w.bytes(m.snapshot.data);
  }
  return w.finish();
}

function invalid(r: Reader, message: string): never {
  r.fail(ErrorCode.DecodeInvalid, message);
}

function readVersion(r: Reader): void {
  const v = r.u8();
  if (v !== RAFT_CODEC_VERSION) throw new DecodeError(ErrorCode.DecodeVersion, `unknown raft codec version ${v}`, r.pos - 1);
}

function readConfState(r: Reader): ConfState {
  const nv = r.count('voters');
  if (nv > MAX_MEMBERS) invalid(r, `${nv} voters exceed ${MAX_MEMBERS}`);
  const voters: number[] = [];
  for (let k = 0; k < nv; k++) voters.push(r.varuint());
  const nl = r.count('learners');
  if (nl > MAX_MEMBERS) invalid(r, `${nl} learners exceed ${MAX_MEMBERS}`);
  const learners: number[] = [];
  for (let k = 0; k < nl; k++) learners.push(r.varuint());
  const seen = new Set<number>();
  for (const id of voters.concat(learners)) {
    if (id === 0) invalid(r, 'node id 0 in a configuration');
    if (seen.has(id)) invalid(r, `node ${id} appears twice in a configuration`);
    seen.add(id);
  }
  return { voters, learners };
}

/**
 * @param allowUnassigned accept index 0 (a forwarded proposal has no index or term yet).
 * The entry's data is a view of the message bytes here; decodeMessage gives the entries of
 * a message one copy of their own (ownEntryData).
 */
function readEntry(r: Reader, allowUnassigned = false): Entry {
  const term = r.varuint();
  const index = r.varuint();
  const type = r.u8();
  if (type !== EntryType.Normal && type !== EntryType.ConfChange) {
    throw new DecodeError(ErrorCode.DecodeType, `unknown entry type ${type}`, r.pos - 1);
  }
  if (index === 0 && !allowUnassigned) invalid(r, 'entry index 0');
  const at = r.pos;
  const n = r.varuint();
  if (n > MAX_DATA_BYTES) throw new DecodeError(ErrorCode.DecodeTooLarge, `byte string of ${n} exceeds ${MAX_DATA_BYTES}`, at);
  const data = r.raw(n);
  return { term, index, type: type as EntryType, data };
}

/**
 * Copies the data of a message's entries out of the message bytes (which belong to the
 * transport) in one copy, each entry's data a view of it: one allocation per message, not
 * one per entry. A copy per entry was also a small array the engine keeps inside the
 * JavaScript heap, and the first Reader over each (every entry is decoded on apply) paid
 * to move it out again, ~1.5 µs per entry on this machine.
 */
function ownEntryData(bytes: Uint8Array, entries: Entry[]): void {
  if (entries.length === 0) return;
  const first = entries[0]!.data;
  const last = entries[entries.length - 1]!.data;
  const lo = first.byteOffset - bytes.byteOffset;
  const hi = last.byteOffset - bytes.byteOffset + last.length;
  // A plain copy even when a caller passes a Buffer (whose slice is a view).
  const own = new Uint8Array(bytes.subarray(lo, hi));
  for (let k = 0; k < entries.length; k++) {
    const e = entries[k]!;
    const at = e.data.byteOffset - bytes.byteOffset - lo;
    entries[k] = { term: e.term, index: e.index, type: e.type, data: own.subarray(at, at + e.data.length) };
  }
}

/** Decodes one message; throws DecodeError on anything malformed. */
export function decodeMessage(bytes: Uint8Array): Message {
  const r = new Reader(bytes);
  readVersion(r);
  const type = r.u8();
  if (type < 1 || type > MAX_MESSAGE_TYPE) throw new DecodeError(ErrorCode.DecodeType, `unknown message type ${type}`, r.pos - 1);
  const to = r.varuint();
  const from = r.varuint();
  if (to === 0 || from === 0) invalid(r, 'message without sender or receiver');
  const term = r.varuint();
  const logTerm = r.varuint();
  const index = r.varuint();
  const commit = r.varuint();
  const flags = r.u8();
  if ((flags & ~(FLAG_REJECT | FLAG_SNAPSHOT)) !== 0) invalid(r, `unknown flags ${flags}`);
  const canReject = type === MT.AppendResponse || type === MT.VoteResponse || type === MT.PreVoteResponse;
  if ((flags & FLAG_REJECT) !== 0 && !canReject) invalid(r, `message type ${type} cannot be a rejection`);
  const rejectHint = r.varuint();
  const context = r.bytes(MAX_DATA_BYTES);
  const n = r.count('entries', 4);
  const entries: Entry[] = [];
  for (let k = 0; k < n; k++) {
    const e = readEntry(r, type === MT.Propose);
    if (e.index !== index + 1 + k && type === MT.Append) invalid(r, `entry index ${e.index} is not ${index + 1 + k}`);
    entries.push(e);
  }
  if (n > 0 && type !== MT.Append && type !== MT.Propose) invalid(r, `message type ${type} carries no entries`);
  ownEntryData(bytes, entries);
  let snapshot: Snapshot | null = null;
  if ((flags & FLAG_SNAPSHOT) !== 0) {
    if (type !== MT.Snapshot) invalid(r, `message type ${type} carries no snapshot`);
    const sIndex = r.varuint();
    const sTerm = r.varuint();
    const confState = readConfState(r);
    const data = r.bytes(MAX_DATA_BYTES);
    if (sIndex === 0) invalid(r, 'snapshot at index 0');
    snapshot = { data, metadata: { index: sIndex, term: sTerm, confState } };
  } else if (type === MT.Snapshot) {
    invalid(r, 'snapshot message without a snapshot');
  }
  r.end();
  return {
    type: type as MessageType,
    to,
    from,
    term,
    logTerm,
    index,
    entries,
    commit,
    reject: (flags & FLAG_REJECT) !== 0,
    rejectHint,
    snapshot,
    context: context.length === 0 ? EMPTY_BYTES : context,
  };
}

/** One entry on its own (the WAL's record format). */
export function encodeEntry(e: Entry): Uint8Array {
  const w = scratchWriter;
  w.reset();
  w.u8(RAFT_CODEC_VERSION);
  writeEntry(w, e);
  return w.finish();
}

export function decodeEntry(bytes: Uint8Array): Entry {
  const r = new Reader(bytes);
  readVersion(r);
  const e = readEntry(r);
  r.end();
  return { term: e.term, index: e.index, type: e.type, data: e.data.slice() };
}

export function encodeHardState(hs: HardState): Uint8Array {
  const w = scratchWriter;
  w.reset();
  w.u8(RAFT_CODEC_VERSION);
  w.varuint(hs.term);
  w.varuint(hs.vote);
  w.varuint(hs.commit);
  return w.finish();
}

export function decodeHardState(bytes: Uint8Array): HardState {
  const r = new Reader(bytes);
  readVersion(r);
  const hs = { term: r.varuint(), vote: r.varuint(), commit: r.varuint() };
  r.end();
  return hs;
}

/** The data of a ConfChange entry: the change and the configuration it results in. */
export interface ConfChangeData {
  change: ConfChange;
  confState: ConfState;
}

export function encodeConfChangeData(d: ConfChangeData): Uint8Array {
  const w = new Writer(64);
  w.u8(RAFT_CODEC_VERSION);
  w.u8(d.change.type);
  w.varuint(d.change.nodeId);
  w.bytes(d.change.context);
  writeConfState(w, d.confState);
  return w.finish();
}

export function decodeConfChangeData(bytes: Uint8Array): ConfChangeData {
  const r = new Reader(bytes);
  readVersion(r);
  const type = r.u8();
  if (type > ConfChangeType.RemoveNode) throw new DecodeError(ErrorCode.DecodeType, `unknown conf change type ${type}`, r.pos - 1);
  const nodeId = r.varuint();
  if (nodeId === 0) invalid(r, 'conf change for node 0');
  const context = r.bytes(MAX_DATA_BYTES);
  const confState = readConfState(r);
  r.end();
  return { change: { type: type as ConfChangeType, nodeId, context }, confState };
}
