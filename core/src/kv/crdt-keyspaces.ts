// The replicated CRDT state of the origin: one Replica per keyspace, joined with the deltas
// of `crdt` commands in log order, so every node holds the same replicas. Each keyspace is
// a base record plus a tail of delta records (all ride along in state-machine snapshots):
//
//   base  "c" ks                 u8 version (1) | string logId | varuint position
//                                | bytes replica snapshot (Replica.encode)
//   tail  "e" ks NUL hex16(pos)  the deltas of one stored batch with their origins (crdt-tail.ts)
//
// A stored apply batch adds one tail record per keyspace it changed (the deltas it joined),
// so its cost follows the deltas, not the keyspace's size. Once the tail holds more bytes
// than the base (and at least TAIL_MIN_BYTES), the base is rewritten and the tail deleted:
// re-encoding a state of S bytes happens only after S bytes of deltas, O(1) per delta byte.
// Loading reads the base and joins the tail records in position order. Until folded, the
// tail is also the keyspace's sync log after the base's position (readLog): every node holds
// it, so a client can resume by log on any node, not only on one that streamed to it before.
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
import { assert, DecodeError, ErrorCode } from '../errors.ts';
import { replicaId, type ReplicaId } from '../clock/replica-id.ts';
import { fnv1a32 } from '../sync/checksum.ts';
import { Replica } from '../doc/replica.ts';
import type { CrdtCommand } from './commands.ts';
import { MAX_CRDT_DELTAS } from './command-codec.ts';
import { crdtTailKey, crdtTailPrefix, decodeCrdtTail, encodeCrdtTail, scanCrdtTail, type StoredCrdtDelta } from './crdt-tail.ts';
import { type KvStorage, type StorageOp, prefixEnd } from './storage.ts';

export const CRDT_PREFIX = 'c';
const RECORD_VERSION = 1;
/** The tail is folded into the base only once it is at least this big (and the base's size). */
const TAIL_MIN_BYTES = 64 * 1024;
/** The origin replica's id: it never makes ops of its own, it only joins clients' deltas. */
export const ORIGIN_REPLICA_ID = replicaId(Number.MAX_SAFE_INTEGER);

export function crdtKey(ks: string): string {
  return `${CRDT_PREFIX}${ks}`;
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
  /** Position the base record brings the replica to. */
  basePosition: number;
  /**
   * The tail records after the base in position order: keys, last positions, and sizes
   * summed up to each (so the records that fit a byte bound are found by binary search).
   */
  tailKeys: string[];
  tailEnds: number[];
  tailSums: number[];
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
    const stored: Stored = { based: true, baseBytes: bytes.length, basePosition: state.position, tailKeys: [], tailEnds: [], tailSums: [], tailBytes: 0 };
    const prefix = crdtTailPrefix(ks);
    for (const e of this.storage.range({ gte: prefix, lt: prefixEnd(prefix) })) {
      let end = stored.basePosition;
      for (const d of decodeCrdtTail(e.value)) {
        end = d.position;
        if (d.position <= state.position) continue;
        state.replica.applyDelta(state.replica.decodeDelta(d.bytes));
        state.position = d.position;
      }
      stored.tailKeys.push(e.key);
      stored.tailEnds.push(end);
      stored.tailBytes += e.value.length;
      stored.tailSums.push(stored.tailBytes);
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
        st = { based: false, baseBytes: 0, basePosition: 0, tailKeys: [], tailEnds: [], tailSums: [], tailBytes: 0 };
        this.stored.set(ks, st);
      }
      const tail = encodeCrdtTail(entries);
      if (st.based && (st.tailBytes + tail.length < TAIL_MIN_BYTES || st.tailBytes + tail.length < st.baseBytes)) {
        const key = crdtTailKey(ks.ks, entries[0]!.position);
        out.push({ type: 'put', key, value: tail });
        st.tailKeys.push(key);
        st.tailEnds.push(entries[entries.length - 1]!.position);
        st.tailBytes += tail.length;
        st.tailSums.push(st.tailBytes);
        continue;
      }
      const base = encodeCrdtRecord(ks);
      out.push({ type: 'put', key: crdtKey(ks.ks), value: base });
      for (const key of st.tailKeys) out.push({ type: 'delete', key });
      st.based = true;
      st.baseBytes = base.length;
      st.basePosition = ks.position;
      st.tailKeys = [];
      st.tailEnds = [];
      st.tailSums = [];
      st.tailBytes = 0;
    }
    this.dirty.clear();
  }

  /**
   * The oldest position `p` such that every delta of `ks` after `p` can be read back with
   * readLog from tail records holding at most `maxBytes` in all (the newest records that fit;
   * the base's position when the whole tail does). Undefined before the keyspace's first
   * delta. Positions at or before it are only in the base: a cursor there needs a snapshot.
   */
  logStart(ks: string, maxBytes = Number.POSITIVE_INFINITY): number | undefined {
    const state = this.get(ks);
    if (state === undefined) return undefined;
    const st = this.storedOf(state);
    // The first record k whose records k.. hold at most maxBytes (sessions ask at every pump).
    const before = (k: number): number => (k === 0 ? 0 : st.tailSums[k - 1]!);
    let k = 0;
    let hi = st.tailSums.length;
    while (k < hi) {
      const mid = (k + hi) >>> 1;
      if (st.tailBytes - before(mid) <= maxBytes) hi = mid;
      else k = mid + 1;
    }
    // Every delta after the end of record k - 1 is in records k.. (positions only grow).
    return k === 0 ? st.basePosition : Math.max(st.basePosition, st.tailEnds[k - 1]!);
  }

  /**
   * The stored deltas of `ks` after `after` (which must be at or after logStart(ks)), in
   * position order with their origins: as many as fit in `maxBytes` of payload but at least
   * one when any exists, at most `maxEntries`. Reads only the tail records it needs (from the
   * one holding the first delta after `after`), so a far-behind reader pages through storage.
   */
  readLog(ks: string, after: number, maxBytes: number, maxEntries: number): StoredCrdtDelta[] {
    const out: StoredCrdtDelta[] = [];
    const state = this.get(ks);
    if (state === undefined || maxEntries <= 0) return out;
    const st = this.storedOf(state);
    assert(after >= st.basePosition, `log read after ${after}, but the stored log starts at ${st.basePosition}`);
    // The first record ending after `after` holds the first delta after it.
    let lo = 0;
    let hi = st.tailEnds.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (st.tailEnds[mid]! <= after) lo = mid + 1;
      else hi = mid;
    }
    let bytes = 0;
    let full = false;
    for (let i = lo; i < st.tailKeys.length && !full; i++) {
      const record = this.storage.get(st.tailKeys[i]!);
      assert(record !== undefined, `crdt tail record ${st.tailKeys[i]} is missing`);
      scanCrdtTail(record, after, (d) => {
        if (out.length >= maxEntries || (out.length > 0 && bytes + d.bytes.length > maxBytes)) {
          full = true;
          return false;
        }
        out.push(d);
        bytes += d.bytes.length;
        return true;
      });
    }
    return out;
  }

  /** The stored bookkeeping of a keyspace whose records are all written (between batches). */
  private storedOf(state: CrdtKeyspace): Stored {
    const st = this.stored.get(state);
    // Asked at every session pump: the message is built only on failure.
    if (st === undefined || !st.based || this.dirty.has(state)) assert(false, `crdt keyspace ${state.ks} is not stored yet`);
    return st;
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
