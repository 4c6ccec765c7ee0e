// Rebuilds the WAL's state from scanned records, in file order: the last hard state and
// snapshot win, entries extend the log, a lower index (or a truncate record) replaces the
// suffix from there. A gap between entries, or a log that does not reach back to the
// snapshot, is corruption: WalCorruptError names the file and offset.
import { WalCorruptError } from './errors.ts';
import type { HardState, SnapshotMeta, WalEntry, WalRecord } from './record.ts';
import type { ScannedRecord } from './segment.ts';

export interface ReplayedState {
  hard: HardState;
  snap: SnapshotMeta;
  /** log[i].index === snap.index + 1 + i */
  log: WalEntry[];
}

const EMPTY_HARD: HardState = { term: 0, vote: '', commit: 0 };
const EMPTY_SNAP: SnapshotMeta = { index: 0, term: 0, data: new Uint8Array(0) };

export function replay(segments: readonly { file: string; records: readonly ScannedRecord[] }[]): ReplayedState {
  let hard = EMPTY_HARD;
  let snap = EMPTY_SNAP;
  let log: WalEntry[] = [];
  /** Index just before log[0]. Older segments may be deleted, so the first entry sets it. */
  let base = 0;
  let started = false;
  let firstFile = segments[0]?.file ?? '';
  for (const seg of segments) {
    for (const { record, offset } of seg.records) {
      const rec: WalRecord = record;
      switch (rec.type) {
        case 1: {
          const e = rec.entry;
          if (e.index <= snap.index) break; // already covered by the snapshot
          if (!started) {
            started = true;
            base = e.index - 1;
            firstFile = seg.file;
          }
          const last = base + log.length;
          if (e.index > last + 1) throw new WalCorruptError(seg.file, offset, `entry ${e.index} leaves a gap after ${last}`);
          if (e.index <= base) throw new WalCorruptError(seg.file, offset, `entry ${e.index} rewrites a deleted part of the log (before ${base + 1})`);
          log.length = e.index - base - 1;
          log.push(e);
          break;
        }
        case 2:
          hard = rec.hardState;
          break;
        case 3: {
          const s = rec.snapshot;
          if (started) {
            const covered = s.index - base; // log entries the snapshot replaces
            if (covered <= 0) {
              // A segment header repeating an older snapshot: the log is unaffected.
            } else if (covered < log.length && log[covered - 1]!.term === s.term) {
              log = log.slice(covered);
              base = s.index;
            } else {
              log = [];
              base = s.index;
            }
          }
          snap = s;
          break;
        }
        case 4:
          if (started && rec.fromIndex > base) log.length = Math.min(log.length, rec.fromIndex - base - 1);
          else if (started) log = [];
          break;
      }
    }
  }
  if (log.length > 0 && base !== snap.index) {
    throw new WalCorruptError(firstFile, 0, `log starts at ${base + 1} but the snapshot covers only up to ${snap.index}`);
  }
  return { hard, snap, log };
}
