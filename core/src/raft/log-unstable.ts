// The not-yet-persisted tail of the log: entries (and possibly an incoming snapshot) that
// Ready hands to the shell and advance() (or, with asynchronous storage writes,
// RawNode.appendDurable) marks stable. Entries [offset, offsetInProgress) were handed to
// the shell and are being written (asynchronous mode only; otherwise the two offsets are
// equal): the next Ready does not repeat them.
import { assert } from '../errors.ts';
import type { Entry, Snapshot } from './types.ts';

export class UnstableLog {
  /** A snapshot received from the leader and not yet persisted, or null. */
  snapshot: Snapshot | null;
  /** Invariant: entries[i] has index offset + i. */
  entries: Entry[];
  offset: number;
  /** Invariant: offset <= offsetInProgress <= offset + entries.length. */
  offsetInProgress: number;

  constructor(offset: number) {
    this.snapshot = null;
    this.entries = [];
    this.offset = offset;
    this.offsetInProgress = offset;
  }

  /** Entries not yet handed to the shell (a new array: the shell may keep it). */
  nextEntries(): Entry[] {
    return this.entries.slice(this.offsetInProgress - this.offset);
  }

  hasNextEntries(): boolean {
    return this.offsetInProgress < this.offset + this.entries.length;
  }

  /**
   * The shell took entries up to index i with term t and is writing them. Ignored if they
   * were replaced since (a later Ready hands out the replacements).
   */
  acceptInProgress(i: number, t: number): void {
    if (i < this.offsetInProgress || this.maybeTerm(i) !== t) return;
    this.offsetInProgress = i + 1;
  }

  /** The index of the first entry, if known from the snapshot. */
  maybeFirstIndex(): number | undefined {
    return this.snapshot !== null ? this.snapshot.metadata.index + 1 : undefined;
  }

  maybeLastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    if (this.snapshot !== null) return this.snapshot.metadata.index;
    return undefined;
  }

  maybeTerm(i: number): number | undefined {
    if (i < this.offset) {
      if (this.snapshot !== null && this.snapshot.metadata.index === i) return this.snapshot.metadata.term;
      return undefined;
    }
    const last = this.maybeLastIndex();
    if (last === undefined || i > last) return undefined;
    return this.entries[i - this.offset]!.term;
  }

  /** Entries up to index i with term t are now persisted. Ignored if they were replaced since. */
  stableTo(i: number, t: number): void {
    const term = this.maybeTerm(i);
    if (term === undefined || term !== t || i < this.offset) return;
    const n = i + 1 - this.offset;
    this.entries = n >= this.entries.length ? [] : this.entries.slice(n);
    this.offset = i + 1;
    if (this.offsetInProgress < this.offset) this.offsetInProgress = this.offset;
  }

  stableSnapTo(i: number): void {
    if (this.snapshot !== null && this.snapshot.metadata.index === i) this.snapshot = null;
  }

  restore(s: Snapshot): void {
    this.offset = s.metadata.index + 1;
    this.offsetInProgress = this.offset;
    this.entries = [];
    this.snapshot = s;
  }

  truncateAndAppend(ents: Entry[]): void {
    const from = ents[0]!.index;
    const after = this.offset + this.entries.length;
    if (from === after) {
      for (let k = 0; k < ents.length; k++) this.entries.push(ents[k]!);
    } else if (from <= this.offset) {
      // Replaces everything unstable (and the stable suffix from `from` on, which the shell
      // overwrites when it persists these entries).
      this.offset = from;
      this.offsetInProgress = from;
      this.entries = ents.slice();
    } else {
      this.entries = this.entries.slice(0, from - this.offset);
      for (let k = 0; k < ents.length; k++) this.entries.push(ents[k]!);
      // Entries being written from `from` on were replaced: their write no longer counts
      // (appendDurable checks the term) and the replacements are handed out again.
      if (this.offsetInProgress > from) this.offsetInProgress = from;
    }
  }

  /** Entries [lo, hi) held here. */
  slice(lo: number, hi: number): Entry[] {
    assert(lo >= this.offset && hi <= this.offset + this.entries.length && lo <= hi, `unstable slice [${lo}, ${hi}) out of bounds`);
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}
