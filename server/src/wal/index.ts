// The write-ahead log of the Raft log: segment files of checksummed records, group commit,
// torn-tail recovery, compaction below a snapshot.
export { WriteAheadLog, type WalOptions, type WalOpenReport, type WalStats, EMPTY_HARD_STATE, EMPTY_SNAPSHOT } from './wal.ts';
export { type WalEntry, type HardState, type SnapshotMeta, type WalRecord, RecordType, MAX_RECORD_BYTES } from './record.ts';
export { WalCorruptError, WalError, WalErrorCode } from './errors.ts';
export { segmentName, parseSegmentName, SEGMENT_HEADER_BYTES } from './segment.ts';
