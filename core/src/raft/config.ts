// Raft's configuration options and role names, shared by raft.ts, roles/ and raw-node.ts.
import type { RaftStorage } from './storage.ts';
import type { NodeId } from './types.ts';

export const StateType = {
  Follower: 0,
  PreCandidate: 1,
  Candidate: 2,
  Leader: 3,
} as const;
export type StateType = (typeof StateType)[keyof typeof StateType];
export const STATE_NAMES = ['Follower', 'PreCandidate', 'Candidate', 'Leader'] as const;

/** Context of a Vote sent because of a leader transfer: voters ignore their lease for it. */
export const CAMPAIGN_TRANSFER: Uint8Array = new Uint8Array([0x54]);

/** A source of randomness, e.g. Prng from core/src/testing (seeded by the shell). */
export interface RandomSource {
  /** An integer in [0, n). */
  int(n: number): number;
}

export interface RaftConfig {
  id: NodeId;
  storage: RaftStorage;
  random: RandomSource;
  /** A follower campaigns after a random timeout in [e, 2e) ticks without a leader. Default 10. */
  electionTimeoutTicks?: number;
  /** A leader sends heartbeats every this many ticks. Default 1. */
  heartbeatTimeoutTicks?: number;
  /** The index the shell's state machine has applied (restarts). Default: from storage. */
  applied?: number;
  /** Bytes of entries in one append message. Default 1 MiB. */
  maxSizePerMessageBytes?: number;
  /** Bytes of committed entries in one Ready. Default 64 MiB. */
  maxCommittedSizePerReadyBytes?: number;
  /** Append messages in flight per follower. Default 256. */
  maxInflightMessages?: number;
  /** Bytes of entries in flight per follower; 0 = no limit. Default 0. */
  maxInflightBytes?: number;
  /** A leader that cannot hear a majority within an election timeout steps down. Default true. */
  checkQuorum?: boolean;
  /** Candidates first ask whether they could win, so a partitioned node cannot bump terms. Default true. */
  preVote?: boolean;
  /**
   * Serve ReadIndex from a leader lease instead of a heartbeat round. Requires checkQuorum.
   * Clock assumption: over any electionTimeoutTicks interval, two nodes' tick counts differ by
   * at most maxClockDriftTicks. A voter that heard from a leader does not vote for anyone else
   * for electionTimeoutTicks (of its own ticks), nor during its first electionTimeoutTicks
   * after a (re)start; so a leader whose heartbeat sent at tick t was acked by a quorum is the
   * only leader until its tick t + electionTimeoutTicks - maxClockDriftTicks. A leader that
   * sent TimeoutNow (leader transfer) forfeits its lease for the rest of its term, because
   * the forced campaign bypasses voters' leases. Default false.
   */
  leaseReads?: boolean;
  /** See leaseReads. Default 1. */
  maxClockDriftTicks?: number;
  /** Followers drop proposals instead of forwarding them to the leader. Default false. */
  disableProposalForwarding?: boolean;
  /**
   * Asynchronous storage writes: the shell may take the next Ready while the previous ones'
   * writes are still being made durable (RawNode.acceptReady, then appendDurable when each
   * write is durable; the contract is at the top of raw-node.ts). A leader then counts its
   * own entries toward commit only once they are durable, and committed entries are handed
   * out only up to the locally durable index. Default false: every Ready is persisted
   * before the next is taken (advance()).
   */
  asyncStorageWrites?: boolean;
}
