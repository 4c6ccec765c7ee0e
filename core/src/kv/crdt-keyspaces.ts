// The replicated CRDT state of the origin: one Replica per keyspace, joined with the deltas
// of `crdt` commands in log order, so every node holds the same replicas. Each keyspace is
// one storage record (so it rides along in state-machine snapshots):
//
//   u8 version (1) | string logId | varuint position | bytes replica snapshot (Replica.encode)
//
// `position` numbers the keyspace's sync log: delta i of the command at Raft index n sits at
// n * MAX_CRDT_DELTAS + i, so positions only grow, are the same on every node, and each
// delta keeps its own origin (a client's own changes are not echoed back to it).
// `logId` is fixed when the keyspace's record is created (`<ks>@<raft index>`): a cluster
// rebuilt from scratch creates it at another index or not at all, so stale cursors fail over
// to a snapshot instead of resuming at positions that mean other entries.
import { Reader } from '../codec/reader.ts';
import { Writer } from '../codec/writer.ts';
import { DecodeError, ErrorCode } from '../errors.ts';
import { replicaId, type ReplicaId } from '../clock/replica-id.ts';
import { Replica } from '../doc/replica.ts';
import type { CrdtCommand } from './commands.ts';
import { MAX_CRDT_DELTAS } from './command-codec.ts';
import type { KvStorage, StorageOp } from './storage.ts';

export const CRDT_PREFIX = 'c';
const RECORD_VERSION = 1;
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

export class CrdtKeyspaces {
  private readonly storage: KvStorage;
  private readonly cache = new Map<string, CrdtKeyspace | null>();
  private readonly dirty = new Set<CrdtKeyspace>();
  private applied: CrdtApplied[] = [];

  constructor(storage: KvStorage) {
    this.storage = storage;
  }

  /** The keyspace's state, or undefined before its first committed delta. */
  get(ks: string): CrdtKeyspace | undefined {
    const cached = this.cache.get(ks);
    if (cached !== undefined) return cached ?? undefined;
    const bytes = this.storage.get(crdtKey(ks));
    const state = bytes === undefined ? null : decodeCrdtRecord(ks, bytes);
    this.cache.set(ks, state);
    return state ?? undefined;
  }

  /**
   * Joins a command's deltas. A delta that does not decode, or whose dots are all already
   * held (a resend after a lost acknowledgement), is skipped: the same on every node.
   */
  apply(cmd: CrdtCommand, index: number): void {
    let ks = this.get(cmd.ks);
    const entries: CrdtLogEntry[] = [];
    for (let i = 0; i < cmd.deltas.length; i++) {
      const item = cmd.deltas[i]!;
      if (ks === undefined) {
        ks = { ks: cmd.ks, replica: new Replica({ replicaId: ORIGIN_REPLICA_ID, keyspace: cmd.ks }), logId: `${cmd.ks}@${index}`, position: 0 };
        this.cache.set(cmd.ks, ks);
      }
      let delta;
      try {
        delta = ks.replica.decodeDelta(item.bytes);
      } catch (e) {
        if (e instanceof DecodeError) continue;
        throw e;
      }
      if (ks.replica.contextOf().includes(delta.context)) continue;
      ks.replica.applyDelta(delta);
      const position = index * MAX_CRDT_DELTAS + i;
      ks.position = position;
      entries.push({ position, bytes: item.bytes, origin: item.origin as ReplicaId });
    }
    if (ks === undefined || entries.length === 0) return;
    this.dirty.add(ks);
    this.applied.push({ ks: ks.ks, logId: ks.logId, entries });
  }

  /** Storage ops for the keyspaces changed since the last call (one record each). */
  takeOps(out: StorageOp[]): void {
    for (const ks of this.dirty) out.push({ type: 'put', key: crdtKey(ks.ks), value: encodeCrdtRecord(ks) });
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
    this.dirty.clear();
    this.applied = [];
  }
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
