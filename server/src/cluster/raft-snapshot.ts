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
import { encodeSnapshot } from '../../../core/src/kv/snapshot.ts';
import type { KvStorage } from '../../../core/src/kv/storage.ts';
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
 * Takes a snapshot every `everyEntries` applied entries. The state is encoded synchronously
 * (so it is exactly the state at the applied index) and the in-memory log compacted at once;
 * the file is written and the WAL compacted in the background, in that order, so a crash in
 * between restarts from the WAL's entries as if no snapshot had been taken.
 */
export class RaftSnapshotter {
  private readonly o: RaftSnapshotterOptions;
  private last: number;
  private pending: Promise<void> | null = null;
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
    const kv = encodeSnapshot(o.kv, applied);
    const data = encodeRaftSnapshotData({ members: o.members(), kv });
    const snap = o.log.createSnapshot(applied, o.raft.confStateAt(applied), data);
    const compactTo = applied - o.catchUpEntries;
    if (compactTo >= o.log.firstIndex()) {
      o.log.compact(compactTo);
      o.raft.compacted(compactTo);
    }
    this.last = applied;
    this.taken++;
    const { index, term, confState } = snap.metadata;
    this.pending = (async () => {
      await writeSnapshotFile(o.dir, { index, term, data });
      // A newer snapshot may have been installed from the leader meanwhile.
      if (index <= o.wal.snapshot.index) return;
      o.wal.setSnapshot({ index, term, data: encodeConfStateMeta(confState) });
      if (compactTo > 0) await o.wal.compact(compactTo);
    })()
      .catch((cause: unknown) => o.onFatal(cause))
      .finally(() => {
        this.pending = null;
      });
  }

  /** Waits for a snapshot being written (tests, shutdown). */
  async settled(): Promise<void> {
    await this.pending;
  }
}
