// The data Raft exchanges with its shell and its peers: entries, messages, hard state,
// snapshots and configurations. Plain objects with every field always present, so the hot
// paths see one shape per type.

/** A Raft node id. 0 means "none" and is never a valid member. */
export type NodeId = number;
export const NONE: NodeId = 0;

export const EntryType = {
  /** Application data for the state machine (empty data = a leader's no-op). */
  Normal: 0,
  /** A membership change: data is an encoded ConfChange (see codec.ts). */
  ConfChange: 1,
} as const;
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  data: Uint8Array;
}

/** What must be on stable storage before any message of the same Ready is sent. */
export interface HardState {
  term: number;
  /** The node voted for in `term`, or NONE. */
  vote: NodeId;
  commit: number;
}

/** A configuration: who votes and who only replicates. Invariant: disjoint sets. */
export interface ConfState {
  voters: NodeId[];
  learners: NodeId[];
}

export interface SnapshotMetadata {
  /** The last log index the snapshot covers, and its term. */
  index: number;
  term: number;
  /** The configuration in force at `index`. */
  confState: ConfState;
}

export interface Snapshot {
  /** The state machine at `metadata.index`, opaque to Raft. */
  data: Uint8Array;
  metadata: SnapshotMetadata;
}

export const ConfChangeType = {
  AddVoter: 0,
  AddLearner: 1,
  RemoveNode: 2,
} as const;
export type ConfChangeType = (typeof ConfChangeType)[keyof typeof ConfChangeType];

/** One single-server membership change (adding a voter that is a learner promotes it). */
export interface ConfChange {
  type: ConfChangeType;
  nodeId: NodeId;
  /** Opaque to Raft; e.g. the new node's address, for the shell. */
  context: Uint8Array;
}

export const MessageType = {
  Append: 1,
  AppendResponse: 2,
  Vote: 3,
  VoteResponse: 4,
  PreVote: 5,
  PreVoteResponse: 6,
  Heartbeat: 7,
  HeartbeatResponse: 8,
  /** InstallSnapshot. */
  Snapshot: 9,
  /** Leader transfer: the target should campaign at once. */
  TimeoutNow: 10,
  /** A read request forwarded by a follower (term 0, like a proposal). */
  ReadIndex: 11,
  ReadIndexResponse: 12,
  /** A proposal forwarded by a follower (term 0). */
  Propose: 13,
  /** A leader-transfer request forwarded by a follower (term 0). */
  TransferLeader: 14,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];
export const MAX_MESSAGE_TYPE = 14;

/**
 * One Raft message. Every field is always present (0 / empty when unused) so that messages
 * are monomorphic; which fields matter depends on `type`:
 * - Append: index/logTerm of the entry before `entries`, `commit`.
 * - AppendResponse: `index` = last index matched (or rejected probe index), `reject`,
 *   `rejectHint` + `logTerm` for fast backtracking.
 * - Vote/PreVote: `index`/`logTerm` of the candidate's last entry; `context` is
 *   CAMPAIGN_TRANSFER for a transfer campaign.
 * - Heartbeat: `commit`, `context` (ReadIndex round), `index` = leader's tick count (lease).
 * - ReadIndex / ReadIndexResponse: `context` identifies the read, `index` is the read index.
 */
export interface Message {
  type: MessageType;
  to: NodeId;
  from: NodeId;
  term: number;
  logTerm: number;
  index: number;
  entries: Entry[];
  commit: number;
  reject: boolean;
  rejectHint: number;
  snapshot: Snapshot | null;
  context: Uint8Array;
}

export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

/** A message with every field zero except those given. */
export function message(fields: Partial<Message> & Pick<Message, 'type' | 'to' | 'from'>): Message {
  return {
    type: fields.type,
    to: fields.to,
    from: fields.from,
    term: fields.term ?? 0,
    logTerm: fields.logTerm ?? 0,
    index: fields.index ?? 0,
    entries: fields.entries ?? [],
    commit: fields.commit ?? 0,
    reject: fields.reject ?? false,
    rejectHint: fields.rejectHint ?? 0,
    snapshot: fields.snapshot ?? null,
    context: fields.context ?? EMPTY_BYTES,
  };
}

export function emptyHardState(): HardState {
  return { term: 0, vote: NONE, commit: 0 };
}

export function hardStateEquals(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

export function isEmptySnapshot(s: Snapshot | null): boolean {
  return s === null || s.metadata.index === 0;
}

/** Bytes an entry counts for in flow control and size limits. */
export function entrySizeBytes(e: Entry): number {
  return e.data.length + 16;
}

export function isLocalOrForwarded(t: MessageType): boolean {
  return t === MessageType.Propose || t === MessageType.ReadIndex || t === MessageType.TransferLeader;
}

export function isResponse(t: MessageType): boolean {
  return (
    t === MessageType.AppendResponse ||
    t === MessageType.VoteResponse ||
    t === MessageType.PreVoteResponse ||
    t === MessageType.HeartbeatResponse ||
    t === MessageType.ReadIndexResponse
  );
}
