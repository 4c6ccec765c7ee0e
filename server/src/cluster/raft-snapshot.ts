// Raft snapshots of an origin node: what a snapshot carries, how it is taken every N applied
// entries, and how the log (memory mirror and WAL) is compacted behind it.
//
// Raft snapshot data (what Raft ships in InstallSnapshot, and what the snapshot file holds):
//   u8 version (1) | varuint n | n * bytes(encodeMember) | bytes(kv snapshot, core/src/kv/snapshot.ts)
// The members ride along because their URLs were in configuration entries the snapshot replaced.
//
// WAL snapshot record data (the WAL keeps only metadata; the state lives in the snapshot file):
//   u8 version (1) | varuint nVoters | nVoters * varuint id | varuint nLearners | nLearners * varuint id
import { Reader } from '../../../core/src/codec/reader.ts';
import { Writer } from '../../../core/src/codec/writer.ts';
import { ErrorCode } from '../../../core/src/errors.ts';
import { SnapshotEncoder } from '../../../core/src/kv/snapshot.ts';
import { frozenEntries, type KvStorage } from '../../../core/src/kv/storage.ts';
import type { RawNode } from '../../../core/src/raft/raw-node.ts';
import type { MemoryStorage } from '../../../core/src/raft/storage.ts';
import type { ConfState } from '../../../core/src/raft/types.ts';
import type { MemberInfo } from '../node/origin-node.ts';
import { writeSnapshotFile } from '../storage/snapshot-file.ts';
import type { WriteAheadLog } from '../wal/wal.ts';
import { decodeMember, encodeMember } from './members.ts';

const DATA_VERSION = 1;
const META_VERSION = 1;
const MAX_MEMBERS = 1024;
const MAX_KV_SNAPSHOT_BYTES = 2 ** 32 - 1;

export interface RaftSnapshotData {
  readonly members: readonly MemberInfo[];
  readonly kv: Uint8Array;
}

export function encodeRaftSnapshotData(d: RaftSnapshotData): Uint8Array {
  const w = new Writer(d.kv.length + 64 * d.members.length + 16);
  w.u8(DATA_VERSION);
  w.varuint(d.members.length);
  for (const m of d.members) w.bytes(encodeMember(m));
  w.bytes(d.kv);
  return w.finish();
}

export function decodeRaftSnapshotData(bytes: Uint8Array): RaftSnapshotData {
  const r = new Reader(bytes);
  const v = r.u8();
  if (v !== DATA_VERSION) r.fail(ErrorCode.DecodeVersion, `unknown raft snapshot version ${v}`);
  const n = r.count('snapshot member', 4);
  if (n > MAX_MEMBERS) r.fail(ErrorCode.DecodeInvalid, `${n} members exceed ${MAX_MEMBERS}`);
  const members: MemberInfo[] = [];
  for (let i = 0; i < n; i++) members.push(decodeMember(r.bytes(4096)));
  const kv = r.bytes(MAX_KV_SNAPSHOT_BYTES);
  r.end();
  return { members, kv };
}

export function encodeConfStateMeta(cs: ConfState): Uint8Array {
  const w = new Writer(16 + 5 * (cs.voters.length + cs.learners.length));
  w.u8(META_VERSION);
  w.varuint(cs.voters.length);
  for (const id of cs.voters) w.varuint(id);
  w.varuint(cs.learners.length);
  for (const id of cs.learners) w.varuint(id);
  return w.finish();
}

export function decodeConfStateMeta(bytes: Uint8Array): ConfState {
  const r = new Reader(bytes);
  const v = r.u8();
  if (v !== META_VERSION) r.fail(ErrorCode.DecodeVersion, `unknown snapshot configuration version ${v}`);
  const ids = (what: string): number[] => {
    const n = r.count(what);
    if (n > MAX_MEMBERS) r.fail(ErrorCode.DecodeInvalid, `${n} ${what}s exceed ${MAX_MEMBERS}`);
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(r.varuint());
    return out;
  };
  const voters = ids('voter');
  const learners = ids('learner');
  r.end();
  return { voters, learners };
}

export interface RaftSnapshotterOptions {
  readonly dir: string;
  readonly everyEntries: number;
  /** Entries kept in the log behind a snapshot, so a follower a little behind catches up from the log. */
  readonly catchUpEntries: number;
  readonly raft: RawNode;
  readonly log: MemoryStorage;
  readonly wal: WriteAheadLog;
  readonly kv: KvStorage;
  /** The members known now (their URLs go into the snapshot). */
  readonly members: () => readonly MemberInfo[];
  /** Writing the snapshot failed: the node must stop. */
  readonly onFatal: (cause: unknown) => void;
}

/**
 * A snapshot's encoding takes at most this much of one event-loop turn (checked every
 * RECORDS_PER_CHECK records). A fixed 2,000 records per turn held the loop 6-30 ms per turn
 * here, at the same moment on every node (they snapshot at the same index), about 28 turns
 * for the cluster benchmark's ~170k keys (2.3 MB of snapshot).
 */
const TURN_BUDGET_MS = 2;
const RECORDS_PER_CHECK = 64;

/** Encodes for one turn's budget; true once every record is in. */
function encodeForOneTurn(encoder: SnapshotEncoder): boolean {
  const until = performance.now() + TURN_BUDGET_MS;
  for (;;) {
    if (encoder.step(RECORDS_PER_CHECK)) return true;
    if (performance.now() >= until) return false;
  }
}

const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * Takes a snapshot every `everyEntries` applied entries, without stalling the node: the
 * state is read through the engine's point-in-time view (an LMDB read transaction taken
 * at the applied index, so it is exactly the state there), encoded a slice per turn while
 * writes go on, then recorded in the in-memory log (compacting it), written to its file
 * and recorded in the WAL (compacting it), in that order, so a crash in between restarts
 * from the WAL's entries as if no snapshot had been taken. Encoding 100,000 keys in one go
 * took ~70 ms here, and every node took it at the same index: each client write in flight
 * waited for it, which was the p99 at half load.
 */
export class RaftSnapshotter {
  private readonly o: RaftSnapshotterOptions;
  private last: number;
  private pending: Promise<void> | null = null;
  private encoder: SnapshotEncoder | null = null;
  /** Snapshots taken here, and installed from the leader (tests, metrics). */
  taken = 0;
  installs = 0;

  constructor(options: RaftSnapshotterOptions) {
    this.o = options;
    this.last = options.log.snapshot().metadata.index;
  }

  /** The index of the latest snapshot (taken or installed). */
  get lastIndex(): number {
    return this.last;
  }

  /** A snapshot from the leader was installed at `index`. */
  installed(index: number): void {
    this.installs++;
    if (index > this.last) this.last = index;
  }

  /** Called after entries were applied up to `applied`. */
  maybeSnapshot(applied: number): void {
    const o = this.o;
    if (this.pending !== null || applied - this.last < o.everyEntries) return;
    if (applied <= o.log.snapshot().metadata.index || applied > o.log.lastIndex()) return;
    // Everything that must be as of `applied` is taken now; only the encoding runs later.
    const encoder = new SnapshotEncoder(frozenEntries(o.kv), applied);
    const confState = o.raft.confStateAt(applied);
    const members = o.members();
    this.encoder = encoder;
    this.last = applied;
    this.pending = (async () => {
      // this.encoder stays set until the end: a stop during the turns below cancels it too.
      while (!encodeForOneTurn(encoder)) await nextTurn();
      if (encoder.cancelled) return;
      // Each whole-snapshot copy (megabytes) in a turn of its own.
      const kv = encoder.finish();
      await nextTurn();
      const data = encodeRaftSnapshotData({ members, kv });
      await nextTurn();
      // A newer snapshot may have been installed from the leader meanwhile, or the node stopped.
      if (encoder.cancelled || applied <= o.log.snapshot().metadata.index) return;
      const snap = o.log.createSnapshot(applied, confState, data);
      const compactTo = applied - o.catchUpEntries;
      if (compactTo >= o.log.firstIndex()) {
        o.log.compact(compactTo);
        o.raft.compacted(compactTo);
      }
      this.taken++;
      const { index, term } = snap.metadata;
      await writeSnapshotFile(o.dir, { index, term, data });
      if (index <= o.wal.snapshot.index) return;
      o.wal.setSnapshot({ index, term, data: encodeConfStateMeta(confState) });
      if (compactTo > 0) await o.wal.compact(compactTo);
    })()
      .catch((cause: unknown) => {
        if (!encoder.cancelled) o.onFatal(cause);
      })
      .finally(() => {
        this.encoder = null;
        this.pending = null;
      });
  }

  /** The node stops: a snapshot being encoded is dropped (its read transaction released). */
  cancel(): void {
    this.encoder?.cancel();
  }

  /** Waits for a snapshot being written (tests, shutdown). */
  async settled(): Promise<void> {
    await this.pending;
  }
}
