// Raft's log storage for an origin node: the write-ahead log on disk, mirrored in a
// MemoryStorage that Raft reads from. On open the WAL is loaded into the mirror; on each
// Ready, `persist` writes hard state and entries to the WAL (fsync'd when Raft says so)
// and to the mirror, before the driver sends any message of that Ready.
import { bootstrapMemoryStorage, MemoryStorage } from '../../../core/src/raft/index.ts';
import { NodeErrorCode, NodeUnavailableError } from '../node/errors.ts';
import type { Entry, HardState, NodeId } from '../../../core/src/raft/types.ts';
import type { WriteAheadLog } from '../wal/wal.ts';

export interface OpenedRaftLog {
  readonly storage: MemoryStorage;
  /** True when the WAL was empty and the initial configuration was written. */
  readonly bootstrapped: boolean;
}

/** Loads the WAL into a MemoryStorage; bootstraps `voters` into an empty one. */
export async function openRaftLog(wal: WriteAheadLog, voters: readonly NodeId[]): Promise<OpenedRaftLog> {
  const storage = new MemoryStorage();
  if (wal.lastIndex === 0 && wal.hardState.term === 0) {
    bootstrapMemoryStorage(storage, [...voters]);
    const hs = storage.initialState().hardState;
    wal.append(storage.entries(1, storage.lastIndex() + 1, Number.MAX_SAFE_INTEGER).map(toWal));
    wal.setHardState({ term: hs.term, vote: String(hs.vote), commit: hs.commit });
    await wal.sync();
    return { storage, bootstrapped: true };
  }
  if (wal.snapshot.index > 0) {
    // Raft snapshots (with their configuration) are not wired into the driver yet; a WAL
    // compacted by a single LocalNode cannot start a Raft member.
    throw new NodeUnavailableError(NodeErrorCode.NotReady, `the write-ahead log starts from a snapshot at ${wal.snapshot.index}; Raft members cannot start from snapshots yet`);
  }
  const hs = wal.hardState;
  storage.setHardState({ term: hs.term, vote: hs.vote === '' ? 0 : Number(hs.vote), commit: hs.commit });
  if (wal.lastIndex >= wal.firstIndex) storage.append(wal.entries(wal.firstIndex, wal.lastIndex + 1).map(fromWal));
  return { storage, bootstrapped: false };
}

/** Persists what a Ready asks for; resolves once durable when `sync` is true. */
export async function persist(wal: WriteAheadLog, storage: MemoryStorage, hardState: HardState | null, entries: readonly Entry[], sync: boolean): Promise<void> {
  if (entries.length > 0) {
    // A conflicting suffix is replaced: the WAL truncates from the first new index.
    if (entries[0]!.index <= wal.lastIndex) wal.truncateSuffix(entries[0]!.index);
    wal.append(entries.map(toWal));
    storage.append([...entries]);
  }
  if (hardState !== null) {
    wal.setHardState({ term: hardState.term, vote: String(hardState.vote), commit: hardState.commit });
    storage.setHardState(hardState);
  }
  if (sync) await wal.sync();
}

function toWal(e: Entry): { index: number; term: number; type: number; data: Uint8Array } {
  return { index: e.index, term: e.term, type: e.type, data: e.data };
}

function fromWal(e: { index: number; term: number; type: number; data: Uint8Array }): Entry {
  return { index: e.index, term: e.term, type: e.type === 1 ? 1 : 0, data: e.data };
}
