// The configurations recorded in the log. A configuration takes effect as soon as its entry
// is in a node's log (committed or not; Ongaro's dissertation §4.1), so a follower whose
// conflicting suffix is truncated falls back to the previous one. Item 0 is the base: the
// configuration of the snapshot the log starts from.
import { assert } from '../../errors.ts';
import type { ConfState } from '../types.ts';

interface ConfItem {
  index: number;
  confState: ConfState;
}

export class ConfHistory {
  /** Invariant: non-empty, sorted by index. */
  private items: ConfItem[];

  constructor(baseIndex: number, base: ConfState) {
    this.items = [{ index: baseIndex, confState: base }];
  }

  current(): ConfState {
    return this.items[this.items.length - 1]!.confState;
  }

  /** The index of the latest configuration entry (the base's index if none). */
  lastIndex(): number {
    return this.items[this.items.length - 1]!.index;
  }

  /** The configuration in force at log index i (i >= the base index). */
  at(i: number): ConfState {
    for (let k = this.items.length - 1; k >= 0; k--) {
      if (this.items[k]!.index <= i) return this.items[k]!.confState;
    }
    return this.items[0]!.confState;
  }

  push(index: number, cs: ConfState): void {
    assert(index > this.lastIndex(), `conf entry ${index} not after ${this.lastIndex()}`);
    this.items.push({ index, confState: cs });
  }

  /** Drops configurations at index >= i (their entries were replaced). Returns true if any. */
  truncateFrom(i: number): boolean {
    let n = this.items.length;
    while (n > 1 && this.items[n - 1]!.index >= i) n--;
    if (n === this.items.length) return false;
    this.items.length = n;
    return true;
  }

  /** Restarts from a snapshot's configuration. */
  reset(index: number, cs: ConfState): void {
    this.items = [{ index, confState: cs }];
  }

  /** Forgets configurations superseded before index i (log compaction). */
  compactTo(i: number): void {
    let k = 0;
    while (k + 1 < this.items.length && this.items[k + 1]!.index <= i) k++;
    if (k > 0) this.items = this.items.slice(k);
  }
}
