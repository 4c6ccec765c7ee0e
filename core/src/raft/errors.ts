// Raft's error classes. Expected outcomes (compacted log, unavailable entries, a dropped
// proposal) are their own classes so a shell can react to each; invariant breaks use assert().
import { NeuroplexError } from '../errors.ts';

export const RaftErrorCode = {
  /** The requested index is below the first index still held (compacted into a snapshot). */
  Compacted: 'RAFT_COMPACTED',
  /** The requested index is above the last index held. */
  Unavailable: 'RAFT_UNAVAILABLE',
  /** A snapshot is being created and cannot be handed out yet; retry later. */
  SnapshotTemporarilyUnavailable: 'RAFT_SNAPSHOT_TEMPORARILY_UNAVAILABLE',
  /** A snapshot older than the one already held was offered. */
  SnapshotOutOfDate: 'RAFT_SNAPSHOT_OUT_OF_DATE',
  /** The proposal was not appended (no leader known, leadership transfer, not a member...). */
  ProposalDropped: 'RAFT_PROPOSAL_DROPPED',
  /** A configuration change that would break an invariant (e.g. remove the last voter). */
  InvalidConfChange: 'RAFT_INVALID_CONF_CHANGE',
  /** A misuse of the API (bad config, advance() without ready()...). */
  InvalidUse: 'RAFT_INVALID_USE',
} as const;
export type RaftErrorCode = (typeof RaftErrorCode)[keyof typeof RaftErrorCode];

export class RaftError extends NeuroplexError {
  declare readonly code: RaftErrorCode;
  constructor(code: RaftErrorCode, message: string) {
    super(code, message);
    this.name = 'RaftError';
  }
}

export class CompactedError extends RaftError {
  constructor(index: number, firstIndex: number) {
    super(RaftErrorCode.Compacted, `index ${index} is compacted (first index ${firstIndex})`);
    this.name = 'CompactedError';
  }
}

export class UnavailableError extends RaftError {
  constructor(index: number, lastIndex: number) {
    super(RaftErrorCode.Unavailable, `index ${index} is beyond the last index ${lastIndex}`);
    this.name = 'UnavailableError';
  }
}

export class SnapshotTemporarilyUnavailableError extends RaftError {
  constructor() {
    super(RaftErrorCode.SnapshotTemporarilyUnavailable, 'snapshot temporarily unavailable');
    this.name = 'SnapshotTemporarilyUnavailableError';
  }
}

export class SnapshotOutOfDateError extends RaftError {
  constructor(index: number, current: number) {
    super(RaftErrorCode.SnapshotOutOfDate, `snapshot at ${index} is older than the one held at ${current}`);
    this.name = 'SnapshotOutOfDateError';
  }
}

export class ProposalDroppedError extends RaftError {
  constructor(reason: string) {
    super(RaftErrorCode.ProposalDropped, `proposal dropped: ${reason}`);
    this.name = 'ProposalDroppedError';
  }
}

export class InvalidConfChangeError extends RaftError {
  constructor(message: string) {
    super(RaftErrorCode.InvalidConfChange, message);
    this.name = 'InvalidConfChangeError';
  }
}

export class RaftUsageError extends RaftError {
  constructor(message: string) {
    super(RaftErrorCode.InvalidUse, message);
    this.name = 'RaftUsageError';
  }
}
