// The Raft log as Raft sees it: stable storage plus the unstable tail, with the commit and
// apply cursors. Invariant: firstIndex - 1 <= applied <= committed <= lastIndex.
import { assert } from '../errors.ts';
import { CompactedError, UnavailableError } from './errors.ts';
import { UnstableLog } from './log-unstable.ts';
import { type RaftStorage, limitSize } from './storage.ts';
import type { Entry, Snapshot } from './types.ts';

export class RaftLog {
  readonly storage: RaftStorage;
  readonly unstable: UnstableLog;
  /** Highest index known to be committed on a quorum. */
  committed: number;
  /** Highest index handed to the shell for applying. Invariant: applied <= committed. */
  applied: number;
  /** Byte limit of one batch of entries read out of the log (committed entries, appends). */
  readonly maxBatchBytes: number;
  /** Told about every append (first new index, entries), e.g. to track configurations. */
  onAppend: ((from: number, ents: Entry[]) => void) | null;
  /**
   * RaftConfig.asyncStorageWrites: the shell may take the next Ready before the last one's
   * writes are durable, so only entries below unstable.offset count as durable here.
   */
  readonly asyncWrites: boolean;

  constructor(storage: RaftStorage, maxBatchBytes: number, asyncWrites = false) {
    this.storage = storage;
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstable = new UnstableLog(last + 1);
    this.committed = first - 1;
    this.applied = first - 1;
    this.maxBatchBytes = maxBatchBytes;
    this.onAppend = null;
    this.asyncWrites = asyncWrites;
  }

  /**
   * The last index this node may count as holding (its own acknowledgement as a leader):
   * every entry when each Ready is persisted before the next is taken, else the durable ones.
   */
  ackableIndex(): number {
    return this.asyncWrites ? Math.min(this.lastIndex(), this.unstable.offset - 1) : this.lastIndex();
  }

  /**
   * The last index that may be handed out for applying: committed, and (asynchronous mode)
   * durable here, since a follower's commit index, or a commit two followers reached, may
   * be ahead of this node's disk.
   */
  applicableIndex(): number {
    return Math.min(this.committed, this.ackableIndex());
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  /** The term of entry i, or undefined when i is compacted or beyond the log. */
  term(i: number): number | undefined {
    const dummy = this.firstIndex() - 1;
    if (i < dummy || i > this.lastIndex()) return undefined;
    const t = this.unstable.maybeTerm(i);
    if (t !== undefined) return t;
    try {
      return this.storage.term(i);
    } catch (err) {
      if (err instanceof CompactedError || err instanceof UnavailableError) return undefined;
      throw err;
    }
  }

  lastTerm(): number {
    const t = this.term(this.lastIndex());
    assert(t !== undefined, 'last term unavailable');
    return t;
  }

  matchTerm(i: number, t: number): boolean {
    return this.term(i) === t;
  }

  /** Raft §5.4.1: is a log ending at (lastIndex, lastTerm) at least as up to date as ours? */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Appends entries following (index, logTerm) if that entry matches, truncating any
   * conflicting suffix. Returns the new last index, or undefined on a mismatch.
   */
  maybeAppend(index: number, logTerm: number, committed: number, ents: Entry[]): number | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNew = index + ents.length;
    const ci = this.findConflict(ents);
    if (ci !== 0) {
      assert(ci > this.committed, `entry ${ci} conflicts with committed entry (committed ${this.committed})`);
      this.append(ents.slice(ci - (index + 1)));
    }
    this.commitTo(Math.min(committed, lastNew));
    return lastNew;
  }

  append(ents: Entry[]): number {
    if (ents.length === 0) return this.lastIndex();
    assert(ents[0]!.index - 1 >= this.committed, `appending at ${ents[0]!.index} below committed ${this.committed}`);
    this.unstable.truncateAndAppend(ents);
    if (this.onAppend !== null) this.onAppend(ents[0]!.index, ents);
    return this.lastIndex();
  }

  /** The index of the first entry whose term differs from ours, or 0 if all match. */
  findConflict(ents: Entry[]): number {
    for (let k = 0; k < ents.length; k++) {
      const e = ents[k]!;
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * Fast backtracking: the largest index <= index whose term is <= term (or the first
   * index - 1 if none is known). Used by both sides of a rejected append.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    let i = Math.min(index, this.lastIndex());
    for (;;) {
      const t = this.term(i);
      if (t === undefined) return { index: i, term: 0 };
      if (t <= term) return { index: i, term: t };
      i--;
    }
  }

  commitTo(toCommit: number): void {
    if (toCommit > this.committed) {
      assert(toCommit <= this.lastIndex(), `commit ${toCommit} beyond last index ${this.lastIndex()}`);
      this.committed = toCommit;
    }
  }

  /** Commits maxIndex if its term is `term` (only current-term entries commit by counting). */
  maybeCommit(maxIndex: number, term: number): boolean {
    if (maxIndex > this.committed && this.term(maxIndex) === term) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  appliedTo(i: number): void {
    if (i === 0) return;
    assert(i <= this.committed && i >= this.applied, `applied ${i} outside [${this.applied}, ${this.committed}]`);
    this.applied = i;
  }

  stableTo(i: number, t: number): void {
    this.unstable.stableTo(i, t);
  }

  stableSnapTo(i: number): void {
    this.unstable.stableSnapTo(i);
  }

  hasNextCommittedEntries(): boolean {
    const off = Math.max(this.applied + 1, this.firstIndex());
    return this.applicableIndex() + 1 > off;
  }

  /** Committed (and applicable) entries not yet applied, up to maxBatchBytes. */
  nextCommittedEntries(): Entry[] {
    const off = Math.max(this.applied + 1, this.firstIndex());
    const hi = this.applicableIndex() + 1;
    if (hi <= off) return [];
    return this.slice(off, hi, this.maxBatchBytes);
  }

  /** Unstable entries not yet handed to the shell (in asynchronous mode, not in progress). */
  unstableEntries(): Entry[] {
    return this.unstable.nextEntries();
  }

  /** The snapshot to use: the unstable one if any, else the storage's. */
  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  /** Entries [lo, hi) up to maxBytes (at least one). Throws CompactedError below firstIndex. */
  slice(lo: number, hi: number, maxBytes: number): Entry[] {
    if (lo === hi) return [];
    const first = this.firstIndex();
    if (lo < first) throw new CompactedError(lo, first);
    assert(hi <= this.lastIndex() + 1, `slice [${lo}, ${hi}) beyond last index ${this.lastIndex()}`);
    const uoff = this.unstable.offset;
    let ents: Entry[];
    if (lo >= uoff) {
      ents = this.unstable.slice(lo, hi);
    } else if (hi <= uoff) {
      ents = this.storage.entries(lo, hi, maxBytes);
      return ents;
    } else {
      const stored = this.storage.entries(lo, uoff, maxBytes);
      if (stored.length < uoff - lo) return stored;
      ents = stored.concat(this.unstable.slice(uoff, hi));
    }
    return limitSize(ents, maxBytes);
  }

  /** Entries from i to the end, up to maxBytes. */
  entriesFrom(i: number, maxBytes: number): Entry[] {
    if (i > this.lastIndex()) return [];
    return this.slice(i, this.lastIndex() + 1, maxBytes);
  }

  restore(s: Snapshot): void {
    this.committed = s.metadata.index;
    this.unstable.restore(s);
  }
}
