// @neuroplex/core/raft: Raft as a pure state machine (see raw-node.ts for the Ready contract).
export {
  type NodeId,
  NONE,
  type Entry,
  EntryType,
  type HardState,
  type ConfState,
  type Snapshot,
  type SnapshotMetadata,
  type ConfChange,
  ConfChangeType,
  type Message,
  MessageType,
  message,
  EMPTY_BYTES,
  isEmptySnapshot,
} from './types.ts';
export { type RaftConfig, type RandomSource, Raft, StateType, STATE_NAMES } from './raft.ts';
export { type Ready, type SoftState, type Status, type ProgressStatus, RawNode, bootstrapState, bootstrapMemoryStorage } from './raw-node.ts';
export { type RaftStorage, type InitialState, MemoryStorage, emptySnapshot } from './storage.ts';
export { type ReadState } from './read-only.ts';
export { applyConfChange, checkInvariants, voterDistance } from './confchange/confchange.ts';
export { ProgressState } from './tracker/progress.ts';
export {
  RAFT_CODEC_VERSION,
  type ConfChangeData,
  encodeMessage,
  decodeMessage,
  encodeEntry,
  decodeEntry,
  encodeHardState,
  decodeHardState,
  encodeConfChangeData,
  decodeConfChangeData,
} from './codec.ts';
export { describeMessage, describeEntry, describeEntries, describeReady, describeHardState, describeConfState } from './describe.ts';
export {
  RaftErrorCode,
  RaftError,
  CompactedError,
  UnavailableError,
  SnapshotTemporarilyUnavailableError,
  SnapshotOutOfDateError,
  ProposalDroppedError,
  InvalidConfChangeError,
  RaftUsageError,
} from './errors.ts';
