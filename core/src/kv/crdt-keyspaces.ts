// The replicated CRDT state of the origin: one Replica per keyspace, joined with the deltas
// of `crdt` commands in log order, so every node holds the same replicas. Each keyspace is
// a base record plus a tail of delta records (all ride along in state-machine snapshots):
//
//   base  "c" ks                 u8 version (1) | string logId | varuint position
//                                | bytes replica snapshot (Replica.encode)
//   tail  "e" ks NUL hex16(pos)  u8 version (1) | varuint n | n × (varuint position | bytes delta)
//
// A stored apply batch adds one tail record per keyspace it changed (the deltas it joined),
// so its cost follows the deltas, not the keyspace's size. Once the tail holds more bytes
// than the base (and at least TAIL_MIN_BYTES), the base is rewritten and the tail deleted:
// re-encoding a state of S bytes happens only after S bytes of deltas, O(1) per delta byte.
// Loading reads the base and joins the tail records in position order.
//
// `position` numbers the keyspace's sync log: delta i of the command at Raft index n sits at
// n * MAX_CRDT_DELTAS + i, so positions only grow, are the same on every node, and each
// delta keeps its own origin (a client's own changes are not echoed back to it).
// `logId` is fixed when the keyspace's record is created, by its first joined delta:
// `<ks>@<raft index>.<fnv1a32 of that delta, 8 hex>`. The index alone would repeat across
// clusters: two fresh clusters (or one rebuilt from scratch) commit their first delta at the
// same index, and a client moving between them would resume at positions that mean other
// entries there. The delta (it carries its author's random replica id and dots) tells them
// apart, and every node derives the same id from the log, with no randomness in the state
// machine. Stale cursors from another log fail over to a snapshot.
import { Reader } from '../codec/reader.ts';
import { Writer } from '../codec/writer.ts';
import { DecodeError, ErrorCode } from '../errors.ts';
import { replicaId, type ReplicaId } from '../clock/replica-id.ts';
import { fnv1a32 } from '../sync/checksum.ts';
import { Replica } from '../doc/replica.ts';
import type { CrdtCommand } from './commands.ts';
import { MAX_CRDT_DELTAS } from './command-codec.ts';
import { type KvStorage, type StorageOp, prefixEnd } from './storage.ts';

export const CRDT_PREFIX = 'c';
export const CRDT_TAIL_PREFIX = 'e';
const RECORD_VERSION = 1;
const TAIL_VERSION = 1;
/** The tail is folded into the base only once it is at least this big (and the base's size). */
const TAIL_MIN_BYTES = 64 * 1024;
/** The origin replica's id: it never makes ops of its own, it only joins clients' deltas. */
export const ORIGIN_REPLICA_ID = replicaId(Number.MAX_SAFE_INTEGER);

export function crdtKey(ks: string): string {
  return `${CRDT_PREFIX}${ks}`;
}

/** Tail record keys of a keyspace sort by position (keyspace names hold no NUL). */
function tailKey(ks: string, position: number): string {
  return `${crdtTailPrefix(ks)}${position.toString(16).padStart(16, '0')}`;
}

function crdtTailPrefix(ks: string): string {
  return `${CRDT_TAIL_PREFIX}${ks}\u0000`;
}

/** One committed delta as the sync log streams it. */
export interface CrdtLogEntry {
  readonly position: number;
  readonly bytes: Uint8Array;
  readonly origin: ReplicaId;
}

/** What one apply batch added to one keyspace (handed to listeners after it is stored). */
export interface CrdtApplied {
  readonly ks: string;
  readonly logId: string;
  readonly entries: readonly CrdtLogEntry[];
}

export interface CrdtKeyspace {
  readonly ks: string;
  readonly replica: Replica;
  readonly logId: string;
  /** Position of the last delta joined (0 when none). */
  position: number;
}

/** Where a keyspace's stored records stand (kept next to the cached replica). */
interface Stored {
  /** Whether the base record exists in storage. */
  based: boolean;
  /** Size of the base record as last written or read. */
  baseBytes: number;
  /** Keys and total size of the tail records after the base. */
  tailKeys: string[];
  tailBytes: number;
}

export class CrdtKeyspaces {
  private readonly storage: KvStorage;
  private readonly cache = new Map<string, CrdtKeyspace | null>();
  private readonly stored = new Map<CrdtKeyspace, Stored>();
  /** Deltas joined since the last takeOps, per keyspace. */
  private readonly dirty = new Map<CrdtKeyspace, CrdtLogEntry[]>();
  private applied: CrdtApplied[] = [];

  constructor(storage: KvStorage) {
    this.storage = storage;
  }

  /** The keyspace's state, or undefined before its first committed delta. */
  get(ks: string): CrdtKeyspace | undefined {
    const cached = this.cache.get(ks);
    if (cached !== undefined) return cached ?? undefined;
    const bytes = this.storage.get(crdtKey(ks));
    if (bytes === undefined) {
      this.cache.set(ks, null);
      return undefined;
    }
    const state = decodeCrdtRecord(ks, bytes);
    const stored: Stored = { based: true, baseBytes: bytes.length, tailKeys: [], tailBytes: 0 };
    const prefix = crdtTailPrefix(ks);
    for (const e of this.storage.range({ gte: prefix, lt: prefixEnd(prefix) })) {
      for (const d of decodeCrdtTail(e.value)) {
        if (d.position <= state.position) continue;
        state.replica.applyDelta(state.replica.decodeDelta(d.bytes));
        state.position = d.position;
      }
      stored.tailKeys.push(e.key);
      stored.tailBytes += e.value.length;
    }
    this.cache.set(ks, state);
    this.stored.set(state, stored);
    return state;
  }

  /**
   * Joins a command's deltas. A delta that does not decode, or whose dots are all already
   * held (a resend after a lost acknowledgement), is skipped: the same on every node.
   */
  apply(cmd: CrdtCommand, index: number): void {
    let ks = this.get(cmd.ks);
    // A new keyspace exists (and takes its log id) only once a delta is joined: one made for
    // skipped deltas would live in this node's cache but not in storage, so a node restarted
    // before the next delta would give the keyspace another log id than the others.
    let fresh: Replica | undefined;
    const entries: CrdtLogEntry[] = [];
    for (let i = 0; i < cmd.deltas.length; i++) {
      const item = cmd.deltas[i]!;
      const replica = ks?.replica ?? (fresh ??= new Replica({ replicaId: ORIGIN_REPLICA_ID, keyspace: cmd.ks }));
      let delta;
      try {
        delta = replica.decodeDelta(item.bytes);
      } catch (e) {
        if (e instanceof DecodeError) continue;
        throw e;
      }
      if (replica.contextOf().includes(delta.context)) continue;
      if (ks === undefined) {
        ks = { ks: cmd.ks, replica, logId: newLogId(cmd.ks, index, item.bytes), position: 0 };
        this.cache.set(cmd.ks, ks);
      }
      ks.replica.applyDelta(delta);
      const position = index * MAX_CRDT_DELTAS + i;
      ks.position = position;
      entries.push({ position, bytes: item.bytes, origin: item.origin as ReplicaId });
    }
    if (ks === undefined || entries.length === 0) return;
    const pending = this.dirty.get(ks);
    if (pending === undefined) this.dirty.set(ks, [...entries]);
    else for (const e of entries) pending.push(e);
    this.applied.push({ ks: ks.ks, logId: ks.logId, entries });
  }

  /**
   * Storage ops for the keyspaces changed since the last call: a tail record with the new
   * deltas, or (new keyspace, or a tail grown past the base) a fresh base with the tail deleted.
   */
  takeOps(out: StorageOp[]): void {
    for (const [ks, entries] of this.dirty) {
      let st = this.stored.get(ks);
      if (st === undefined) {
        st = { based: false, baseBytes: 0, tailKeys: [], tailBytes: 0 };
        this.stored.set(ks, st);
      }
      const tail = encodeCrdtTail(entries);
      if (st.based && (st.tailBytes + tail.length < TAIL_MIN_BYTES || st.tailBytes + tail.length < st.baseBytes)) {
        const key = tailKey(ks.ks, entries[0]!.position);
        out.push({ type: 'put', key, value: tail });
        st.tailKeys.push(key);
        st.tailBytes += tail.length;
        continue;
      }
      const base = encodeCrdtRecord(ks);
      out.push({ type: 'put', key: crdtKey(ks.ks), value: base });
      for (const key of st.tailKeys) out.push({ type: 'delete', key });
      st.based = true;
      st.baseBytes = base.length;
      st.tailKeys = [];
      st.tailBytes = 0;
    }
    this.dirty.clear();
  }

  /** What the batch just stored added, for listeners; clears it. */
  takeApplied(): CrdtApplied[] {
    const out = this.applied;
    this.applied = [];
    return out;
  }

  /** Storage was replaced (snapshot restore): forget every cached replica. */
  reload(): void {
    this.cache.clear();
    this.stored.clear();
    this.dirty.clear();
    this.applied = [];
  }
}

/** The log id of a keyspace created by `firstDelta` at Raft index `index` (see the header). */
export function newLogId(ks: string, index: number, firstDelta: Uint8Array): string {
  return `${ks}@${index}.${fnv1a32(firstDelta).toString(16).padStart(8, '0')}`;
}

export function encodeCrdtRecord(ks: CrdtKeyspace): Uint8Array {
  const snapshot = ks.replica.encode();
  const w = new Writer(snapshot.length + ks.logId.length + 16);
  w.u8(RECORD_VERSION);
  w.string(ks.logId);
  w.varuint(ks.position);
  w.bytes(snapshot);
  return w.finish();
}

/** Decodes and validates a keyspace record; throws DecodeError. */
export function decodeCrdtRecord(ks: string, bytes: Uint8Array): CrdtKeyspace {
  const r = new Reader(bytes);
  const v = r.u8();
  if (v !== RECORD_VERSION) r.fail(ErrorCode.DecodeVersion, `unknown crdt record version ${v}`);
  const logId = r.string(4096);
  const position = r.varuint();
  const snapshot = r.bytes(bytes.length);
  r.end();
  const replica = Replica.decode(snapshot, { replicaId: ORIGIN_REPLICA_ID, keyspace: ks });
  return { ks, replica, logId, position };
}

function encodeCrdtTail(entries: readonly CrdtLogEntry[]): Uint8Array {
  let size = 8;
  for (const e of entries) size += e.bytes.length + 16;
  const w = new Writer(size);
  w.u8(TAIL_VERSION);
  w.varuint(entries.length);
  for (const e of entries) {
    w.varuint(e.position);
    w.bytes(e.bytes);
  }
  return w.finish();
}

/** Decodes a tail record (positions strictly increasing); throws DecodeError. */
export function decodeCrdtTail(bytes: Uint8Array): { position: number; bytes: Uint8Array }[] {
  const r = new Reader(bytes);
  const v = r.u8();
  if (v !== TAIL_VERSION) r.fail(ErrorCode.DecodeVersion, `unknown crdt tail version ${v}`);
  const n = r.count('crdt tail delta', 2);
  const out: { position: number; bytes: Uint8Array }[] = [];
  let prev = -1;
  for (let i = 0; i < n; i++) {
    const position = r.varuint();
    if (position <= prev) r.fail(ErrorCode.DecodeInvalid, 'crdt tail positions out of order');
    prev = position;
    out.push({ position, bytes: r.bytes(bytes.length) });
  }
  r.end();
  return out;
}
