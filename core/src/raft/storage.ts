// The log storage interface Raft reads its stable log through, and MemoryStorage, an
// in-memory implementation (used by tests, the simulator, and as the read cache of a shell
// whose WAL is the real disk). Raft never writes to storage: the shell appends what Ready
// hands it, then calls advance().
import { assert } from '../errors.ts';
import { CompactedError, SnapshotOutOfDateError, UnavailableError } from './errors.ts';
import { type ConfState, type Entry, type HardState, type Snapshot, EMPTY_BYTES, EntryType, emptyHardState, entrySizeBytes } from './types.ts';

export interface InitialState {
  hardState: HardState;
  confState: ConfState;
}

/** What Raft needs from stable storage. All methods are synchronous reads. */
export interface RaftStorage {
  /** The persisted hard state and the configuration at the last snapshot or conf change. */
  initialState(): InitialState;
  /**
   * Entries in [lo, hi), at least one when lo < hi, then as many as fit in maxBytes.
   * Throws CompactedError if lo is compacted, UnavailableError if hi > lastIndex + 1.
   */
  entries(lo: number, hi: number, maxBytes: number): Entry[];
  /** The term of entry i, for firstIndex - 1 <= i <= lastIndex; throws otherwise. */
  term(i: number): number;
  /** The index of the first entry held (the snapshot index + 1). */
  firstIndex(): number;
  lastIndex(): number;
  /** The latest snapshot (may throw SnapshotTemporarilyUnavailableError). */
  snapshot(): Snapshot;
}

export function emptySnapshot(): Snapshot {
  return { data: EMPTY_BYTES, metadata: { index: 0, term: 0, confState: { voters: [], learners: [] } } };
}

export function limitSize(ents: Entry[], maxBytes: number): Entry[] {
  if (ents.length === 0) return ents;
  let size = entrySizeBytes(ents[0]!);
  let n = 1;
  while (n < ents.length) {
    size += entrySizeBytes(ents[n]!);
    if (size > maxBytes) break;
    n++;
  }
  return n === ents.length ? ents : ents.slice(0, n);
}

export class MemoryStorage implements RaftStorage {
  hardState: HardState;
  snap: Snapshot;
  /** Invariant: ents[0] is a dummy entry at the snapshot's index and term. */
  private ents: Entry[];

  constructor() {
    this.hardState = emptyHardState();
    this.snap = emptySnapshot();
    this.ents = [{ term: 0, index: 0, type: EntryType.Normal, data: EMPTY_BYTES }];
  }

  initialState(): InitialState {
    return { hardState: { ...this.hardState }, confState: this.snap.metadata.confState };
  }

  setHardState(hs: HardState): void {
    this.hardState = { term: hs.term, vote: hs.vote, commit: hs.commit };
  }

  private offset(): number {
    return this.ents[0]!.index;
  }

  firstIndex(): number {
    return this.offset() + 1;
  }

  lastIndex(): number {
    return this.offset() + this.ents.length - 1;
  }

  term(i: number): number {
    const off = this.offset();
    if (i < off) throw new CompactedError(i, off + 1);
    if (i - off >= this.ents.length) throw new UnavailableError(i, this.lastIndex());
    return this.ents[i - off]!.term;
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const off = this.offset();
    if (lo <= off) throw new CompactedError(lo, off + 1);
    if (hi > this.lastIndex() + 1) throw new UnavailableError(hi - 1, this.lastIndex());
    return limitSize(this.ents.slice(lo - off, hi - off), maxBytes);
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Installs a snapshot received from the leader (Ready.snapshot), dropping the log. */
  applySnapshot(snap: Snapshot): void {
    const index = snap.metadata.index;
    if (index <= this.snap.metadata.index) throw new SnapshotOutOfDateError(index, this.snap.metadata.index);
    this.snap = snap;
    this.ents = [{ term: snap.metadata.term, index, type: EntryType.Normal, data: EMPTY_BYTES }];
  }

  /**
   * Records a snapshot of the state machine at applied index i (i <= lastIndex). Follow it
   * with compact() to drop the log it covers.
   */
  createSnapshot(i: number, confState: ConfState, data: Uint8Array): Snapshot {
    if (i <= this.snap.metadata.index) throw new SnapshotOutOfDateError(i, this.snap.metadata.index);
    assert(i <= this.lastIndex(), `snapshot ${i} beyond last index ${this.lastIndex()}`);
    this.snap = { data, metadata: { index: i, term: this.term(i), confState } };
    return this.snap;
  }

  /** Drops entries before compactIndex (which stays as the dummy entry). */
  compact(compactIndex: number): void {
    const off = this.offset();
    if (compactIndex <= off) throw new CompactedError(compactIndex, off + 1);
    assert(compactIndex <= this.lastIndex(), `compact ${compactIndex} beyond last index ${this.lastIndex()}`);
    const i = compactIndex - off;
    const dummy: Entry = { term: this.ents[i]!.term, index: compactIndex, type: EntryType.Normal, data: EMPTY_BYTES };
    const rest = this.ents.slice(i + 1);
    this.ents = [dummy];
    for (let k = 0; k < rest.length; k++) this.ents.push(rest[k]!);
  }

  /** Appends entries from Ready, replacing any conflicting suffix. Entries must be contiguous. */
  append(entries: Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[0]!.index + entries.length - 1;
    if (last < first) return; // all already compacted
    const start = first > entries[0]!.index ? first - entries[0]!.index : 0;
    const from = entries[start]!.index;
    const off = this.offset();
    assert(from - off <= this.ents.length, `missing log entries: last ${this.lastIndex()}, appending ${from}`);
    if (from - off < this.ents.length) this.ents.length = from - off;
    for (let k = start; k < entries.length; k++) this.ents.push(entries[k]!);
  }
}
