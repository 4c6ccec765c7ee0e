// Raft's log storage for an origin node: the write-ahead log on disk, mirrored in a
// MemoryStorage that Raft reads from. On open the WAL is loaded into the mirror; on each
// Ready, `persist` writes hard state and entries to the WAL (fsync'd when Raft says so)
// and to the mirror, before the driver sends any message of that Ready (with asynchronous
// storage writes, `bufferWrites` does the synchronous part and the driver syncs). A compacted WAL
// starts from its snapshot: the configuration is in the WAL's snapshot record, the state in
// the snapshot file of the same index.
import { bootstrapMemoryStorage, MemoryStorage } from '../../../core/src/raft/index.ts';
import { NodeErrorCode, NodeUnavailableError } from '../node/errors.ts';
import type { Entry, HardState, NodeId, Snapshot } from '../../../core/src/raft/types.ts';
import { readSnapshotFile, writeSnapshotFile } from '../storage/snapshot-file.ts';
import type { WriteAheadLog } from '../wal/wal.ts';
import { decodeConfStateMeta, encodeConfStateMeta } from './raft-snapshot.ts';

export interface OpenedRaftLog {
  readonly storage: MemoryStorage;
  /** True when the WAL was empty and the initial configuration was written. */
  readonly bootstrapped: boolean;
  /** The snapshot the log starts from, if it was compacted. */
  readonly snapshot: Snapshot | null;
}

/** Loads the WAL into a MemoryStorage; bootstraps `voters` into an empty one. */
export async function openRaftLog(wal: WriteAheadLog, voters: readonly NodeId[], snapshotDir: string): Promise<OpenedRaftLog> {
  const storage = new MemoryStorage();
  if (wal.lastIndex === 0 && wal.hardState.term === 0) {
    bootstrapMemoryStorage(storage, [...voters]);
    const hs = storage.initialState().hardState;
    wal.append(storage.entries(1, storage.lastIndex() + 1, Number.MAX_SAFE_INTEGER));
    wal.setHardState({ term: hs.term, vote: String(hs.vote), commit: hs.commit });
    await wal.sync();
    return { storage, bootstrapped: true, snapshot: null };
  }
  let snapshot: Snapshot | null = null;
  if (wal.snapshot.index > 0) {
    const meta = wal.snapshot;
    let confState;
    try {
      confState = decodeConfStateMeta(meta.data);
    } catch (cause) {
      // E.g. a WAL compacted by a single LocalNode: it has no configuration to start from.
      throw new NodeUnavailableError(NodeErrorCode.NotReady, `the write-ahead log's snapshot at ${meta.index} has no Raft configuration: ${(cause as Error).message}`);
    }
    const file = readSnapshotFile(snapshotDir, meta.index); // SnapshotFileError names the file
    snapshot = { data: file.data, metadata: { index: meta.index, term: meta.term, confState } };
    storage.applySnapshot(snapshot);
  }
  const hs = wal.hardState;
  storage.setHardState({ term: hs.term, vote: hs.vote === '' ? 0 : Number(hs.vote), commit: hs.commit });
  if (wal.lastIndex >= wal.firstIndex) storage.append(wal.entries(wal.firstIndex, wal.lastIndex + 1).map(fromWal));
  return { storage, bootstrapped: false, snapshot };
}

/** What one Ready asks to persist. */
export interface ReadyWrites {
  readonly snapshot: Snapshot | null;
  readonly hardState: HardState | null;
  readonly entries: readonly Entry[];
  readonly mustSync: boolean;
}

/** Persists what a Ready asks for; resolves once durable when `mustSync` is true. */
export async function persist(wal: WriteAheadLog, storage: MemoryStorage, snapshotDir: string, rd: ReadyWrites): Promise<void> {
  const { snapshot } = rd;
  if (snapshot !== null) {
    // Installed from the leader: the file first, then the WAL record that points at it.
    const { index, term, confState } = snapshot.metadata;
    await writeSnapshotFile(snapshotDir, { index, term, data: snapshot.data });
    if (index > wal.snapshot.index) wal.setSnapshot({ index, term, data: encodeConfStateMeta(confState) });
    storage.applySnapshot(snapshot);
  }
  bufferWrites(wal, storage, rd);
  if (rd.mustSync || snapshot !== null) await wal.sync();
  if (snapshot !== null) await wal.compact(snapshot.metadata.index);
}

/**
 * The synchronous part of persisting a Ready without a snapshot: entries and hard state into
 * the WAL's buffer and the log mirror. Durable after the WAL's next sync().
 */
export function bufferWrites(wal: WriteAheadLog, storage: MemoryStorage, rd: Omit<ReadyWrites, 'snapshot' | 'mustSync'>): void {
  const { hardState, entries } = rd;
  if (entries.length > 0) {
    // A conflicting suffix is replaced: the WAL truncates from the first new index.
    if (entries[0]!.index <= wal.lastIndex) wal.truncateSuffix(entries[0]!.index);
    // A Raft entry is a WAL entry as it is (same fields): no copy per entry on the hot path.
    wal.append(entries);
    storage.append(entries as Entry[]);
  }
  if (hardState !== null) {
    wal.setHardState({ term: hardState.term, vote: String(hardState.vote), commit: hardState.commit });
    storage.setHardState(hardState);
  }
}

function fromWal(e: { index: number; term: number; type: number; data: Uint8Array }): Entry {
  return { index: e.index, term: e.term, type: e.type === 1 ? 1 : 0, data: e.data };
}
