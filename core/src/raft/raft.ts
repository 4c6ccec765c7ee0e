// The Raft state machine: persistent state (term, vote, log), the role (follower,
// pre-candidate, candidate, leader) and step(), which applies one message. Role-specific
// handling lives in roles/ and is swapped in by becomeFollower/becomeCandidate/becomeLeader;
// campaigning and answering vote requests are in roles/election.ts.
// No I/O, timers or randomness: time enters through tick(), randomness through `random`.
export { type RaftConfig, type RandomSource, CAMPAIGN_TRANSFER, STATE_NAMES, StateType } from './config.ts';
import { assert } from '../errors.ts';
import { ConfHistory } from './confchange/history.ts';
import { decodeConfChangeData } from './codec.ts';
import { ProposalDroppedError, RaftUsageError } from './errors.ts';
import { RaftLog } from './log.ts';
import { type ReadState, ReadOnly } from './read-only.ts';
import { campaign, handleVoteRequest } from './roles/election.ts';
import { stepCandidate, stepFollower, tickElection } from './roles/follower.ts';
import { type RaftConfig, type RandomSource, CAMPAIGN_TRANSFER, StateType } from './config.ts';
import { appendEntries, bcastAppend, bcastHeartbeat, maybeSendAppend, proposeAsLeader, stepLeader, tickHeartbeat } from './roles/leader.ts';
import { ProgressState } from './tracker/progress.ts';
import { ProgressTracker } from './tracker/tracker.ts';
import {
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type Snapshot,
  EMPTY_BYTES,
  EntryType,
  MessageType,
  NONE,
  message,
} from './types.ts';

/** Upper bound on ReadIndex requests waiting for the leader's first commit in its term. */
const MAX_PENDING_READ_INDEX_MESSAGES = 4096;
/** A snapshot unacknowledged for this many election timeouts is presumed lost. */
const SNAPSHOT_TIMEOUT_ELECTIONS = 2;

export class Raft {
  readonly id: NodeId;
  term: number;
  vote: NodeId;
  readonly raftLog: RaftLog;
  readonly prs: ProgressTracker;
  readonly confHistory: ConfHistory;
  state: StateType;
  lead: NodeId;
  /** The node a leadership transfer is going to, or NONE. */
  leadTransferee: NodeId;
  readonly readOnly: ReadOnly;
  readStates: ReadState[];
  /** Outgoing messages, handed out by Ready. */
  msgs: Message[];
  /** Ticks since the last election timeout reset. */
  electionElapsed: number;
  heartbeatElapsed: number;
  /** Ticks since this Raft was created (lease anchoring, snapshot timeouts). */
  ticks: number;
  readonly checkQuorum: boolean;
  readonly preVote: boolean;
  readonly leaseReads: boolean;
  readonly maxClockDriftTicks: number;
  readonly heartbeatTimeout: number;
  readonly electionTimeout: number;
  randomizedElectionTimeout: number;
  readonly maxMsgSize: number;
  readonly disableProposalForwarding: boolean;
  readonly snapshotTimeoutTicks: number;
  pendingReadIndexMessages: Message[];
  /**
   * Set once this leader sent TimeoutNow in its term: the target's forced campaign ignores
   * voters' leases, at any later time (the message may be delayed), so this leader must not
   * serve lease reads again in this term.
   */
  leaseForfeited: boolean;
  private readonly random: RandomSource;
  stepFn: (r: Raft, m: Message) => void;
  tickFn: (r: Raft) => void;

  constructor(c: RaftConfig) {
    assert(c.id !== NONE, 'a Raft node id must not be 0');
    this.id = c.id;
    this.random = c.random;
    this.electionTimeout = c.electionTimeoutTicks ?? 10;
    this.heartbeatTimeout = c.heartbeatTimeoutTicks ?? 1;
    if (this.heartbeatTimeout <= 0 || this.electionTimeout <= this.heartbeatTimeout) {
      throw new RaftUsageError('electionTimeoutTicks must exceed heartbeatTimeoutTicks > 0');
    }
    this.checkQuorum = c.checkQuorum ?? true;
    this.preVote = c.preVote ?? true;
    this.leaseReads = c.leaseReads ?? false;
    if (this.leaseReads && !this.checkQuorum) throw new RaftUsageError('leaseReads requires checkQuorum');
    this.maxClockDriftTicks = c.maxClockDriftTicks ?? 1;
    if (this.maxClockDriftTicks < 0 || this.maxClockDriftTicks >= this.electionTimeout) {
      throw new RaftUsageError('maxClockDriftTicks must be in [0, electionTimeoutTicks)');
    }
    this.maxMsgSize = c.maxSizePerMessageBytes ?? 1 << 20;
    this.disableProposalForwarding = c.disableProposalForwarding ?? false;
    this.snapshotTimeoutTicks = SNAPSHOT_TIMEOUT_ELECTIONS * this.electionTimeout;
    this.raftLog = new RaftLog(c.storage, c.maxCommittedSizePerReadyBytes ?? 64 << 20, c.asyncStorageWrites ?? false);
    this.prs = new ProgressTracker(c.maxInflightMessages ?? 256, c.maxInflightBytes ?? 0);
    this.readOnly = new ReadOnly();
    this.readStates = [];
    this.msgs = [];
    this.pendingReadIndexMessages = [];
    this.leaseForfeited = false;
    this.term = 0;
    this.vote = NONE;
    this.state = StateType.Follower;
    this.lead = NONE;
    this.leadTransferee = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.ticks = 0;
    this.randomizedElectionTimeout = this.electionTimeout;
    this.stepFn = stepFollower;
    this.tickFn = tickElection;

    this.raftLog.onAppend = (from, ents) => this.onEntriesAppended(from, ents);
    const { hardState, confState } = c.storage.initialState();
    this.confHistory = new ConfHistory(c.storage.firstIndex() - 1, confState);
    // The configuration is the latest one in the log: scan the stored log once at start.
    const first = c.storage.firstIndex();
    const last = c.storage.lastIndex();
    for (let lo = first; lo <= last; ) {
      const ents = c.storage.entries(lo, last + 1, 64 << 20);
      this.recordConfEntries(ents);
      lo += ents.length;
    }
    this.prs.applyConfig(this.confHistory.current(), this.raftLog.lastIndex());
    if (hardState.term !== 0 || hardState.vote !== NONE || hardState.commit !== 0) this.loadState(hardState);
    if (c.applied !== undefined && c.applied > 0) this.raftLog.appliedTo(c.applied);
    this.becomeFollower(this.term, NONE);
  }

  private loadState(hs: HardState): void {
    if (hs.commit < this.raftLog.committed || hs.commit > this.raftLog.lastIndex()) {
      throw new RaftUsageError(`hard state commit ${hs.commit} outside [${this.raftLog.committed}, ${this.raftLog.lastIndex()}]`);
    }
    this.raftLog.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.raftLog.committed };
  }

  // ---- roles ------------------------------------------------------------------------

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.electionTimeout + this.random.int(this.electionTimeout);
    this.leadTransferee = NONE;
    this.prs.resetVotes();
    this.prs.resetProgress(this.raftLog.lastIndex(), this.id, this.raftLog.ackableIndex());
    this.readOnly.reset();
    this.pendingReadIndexMessages = [];
    this.leaseForfeited = false;
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.stepFn = stepFollower;
    this.tickFn = tickElection;
    this.reset(term);
    this.lead = lead;
    this.state = StateType.Follower;
  }

  becomePreCandidate(): void {
    assert(this.state !== StateType.Leader, 'leader cannot become pre-candidate');
    // A pre-candidate keeps its term and vote: it only asks whether it could win.
    this.stepFn = stepCandidate;
    this.tickFn = tickElection;
    this.prs.resetVotes();
    this.lead = NONE;
    this.state = StateType.PreCandidate;
  }

  becomeCandidate(): void {
    assert(this.state !== StateType.Leader, 'leader cannot become candidate');
    this.stepFn = stepCandidate;
    this.tickFn = tickElection;
    this.reset(this.term + 1);
    this.vote = this.id;
    this.state = StateType.Candidate;
  }

  becomeLeader(): void {
    assert(this.state !== StateType.Follower, 'follower cannot become leader');
    this.stepFn = stepLeader;
    this.tickFn = tickHeartbeat;
    this.reset(this.term);
    this.lead = this.id;
    this.state = StateType.Leader;
    const self = this.prs.progress.get(this.id);
    if (self !== undefined) self.becomeReplicate();
    // An empty entry of the new term: committing it commits everything before it (§5.4.2)
    // and unlocks reads and configuration changes.
    appendEntries(this, [{ term: 0, index: 0, type: EntryType.Normal, data: EMPTY_BYTES }]);
  }

  // ---- elections ---------------------------------------------------------------------

  promotable(): boolean {
    return this.prs.promotable(this.id);
  }

  /** Starts an election (pre-vote first unless `transfer` or pre-vote is off). */
  hup(transfer: boolean): void {
    if (this.state === StateType.Leader || !this.promotable()) return;
    if (this.preVote && !transfer) campaign(this, MessageType.PreVote, false);
    else campaign(this, MessageType.Vote, transfer);
  }

  /** Whether a voter is inside a leader lease and must not vote for another candidate. */
  inLease(): boolean {
    if (!this.checkQuorum || this.electionElapsed >= this.electionTimeout) return false;
    return this.lead !== NONE || (this.leaseReads && this.ticks < this.electionTimeout);
  }

  // ---- step --------------------------------------------------------------------------

  /** Applies one message from a peer (or a forwarded local request). Never throws on bad peers. */
  step(m: Message): void {
    if (m.term === 0) {
      // Forwarded proposal, read or transfer request: not tied to a term.
    } else if (m.term > this.term) {
      if (m.type === MessageType.Vote || m.type === MessageType.PreVote) {
        const force = m.context.length === 1 && m.context[0] === CAMPAIGN_TRANSFER[0];
        if (!force && this.inLease()) return;
      }
      if (m.type === MessageType.PreVote) {
        // Never change our term for a pre-vote.
      } else if (m.type === MessageType.PreVoteResponse && !m.reject) {
        // A granted pre-vote carries the future term; counted in stepCandidate.
      } else if (m.type === MessageType.Append || m.type === MessageType.Heartbeat || m.type === MessageType.Snapshot) {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, NONE);
      }
    } else if (m.term < this.term) {
      if ((this.checkQuorum || this.preVote) && (m.type === MessageType.Heartbeat || m.type === MessageType.Append)) {
        // A stale leader (e.g. behind a healed partition) learns our term and steps down.
        this.send(message({ type: MessageType.AppendResponse, to: m.from, from: NONE }));
      } else if (m.type === MessageType.PreVote) {
        this.send(message({ type: MessageType.PreVoteResponse, to: m.from, from: NONE, term: this.term, reject: true }));
      }
      return;
    }

    if (m.type === MessageType.Vote || m.type === MessageType.PreVote) {
      handleVoteRequest(this, m);
      return;
    }
    this.stepFn(this, m);
  }

  tick(): void {
    this.ticks++;
    this.tickFn(this);
  }

  /** Queues a message; fills in `from` and, except for term-less requests, the term. */
  send(m: Message): void {
    if (m.from === NONE) m.from = this.id;
    if (
      m.type === MessageType.Vote ||
      m.type === MessageType.PreVote ||
      m.type === MessageType.VoteResponse ||
      m.type === MessageType.PreVoteResponse
    ) {
      assert(m.term !== 0, 'vote messages carry their term');
    } else if (m.type !== MessageType.Propose && m.type !== MessageType.ReadIndex && m.type !== MessageType.TransferLeader) {
      m.term = this.term;
    }
    this.msgs.push(m);
  }

  // ---- local requests ----------------------------------------------------------------

  /** Appends (leader) or forwards (follower) a proposal; throws ProposalDroppedError otherwise. */
  propose(entries: Entry[]): void {
    if (this.state === StateType.Leader) {
      proposeAsLeader(this, entries, true);
      return;
    }
    if (this.lead === NONE) throw new ProposalDroppedError('no leader');
    if (this.disableProposalForwarding) throw new ProposalDroppedError('not the leader and forwarding is disabled');
    if (this.state !== StateType.Follower) throw new ProposalDroppedError('election in progress');
    for (const e of entries) {
      if (e.type === EntryType.ConfChange) throw new ProposalDroppedError('configuration changes are proposed at the leader');
    }
    this.send(message({ type: MessageType.Propose, to: this.lead, from: NONE, entries }));
  }

  /** Whether the leader has committed an entry of its own term (needed for reads and conf changes). */
  committedEntryInCurrentTerm(): boolean {
    return this.raftLog.term(this.raftLog.committed) === this.term;
  }

  /** A leader lease is valid now (see RaftConfig.leaseReads). */
  leaseValid(): boolean {
    if (!this.leaseReads || this.state !== StateType.Leader || this.leadTransferee !== NONE || this.leaseForfeited) return false;
    const anchor = this.prs.quorumAckedTick(this.id, this.ticks);
    return anchor + this.electionTimeout - this.maxClockDriftTicks > this.ticks;
  }

  // ---- configuration -----------------------------------------------------------------

  /** Notes configuration entries newly placed in the log at or after `from`, and switches to the latest. */
  onEntriesAppended(from: number, ents: Entry[]): void {
    const truncated = this.confHistory.truncateFrom(from);
    const added = this.recordConfEntries(ents);
    if (truncated || added) this.switchToConfig(this.confHistory.current());
  }

  private recordConfEntries(ents: Entry[]): boolean {
    let added = false;
    for (let k = 0; k < ents.length; k++) {
      const e = ents[k]!;
      if (e.type !== EntryType.ConfChange || e.index <= this.confHistory.lastIndex()) continue;
      this.confHistory.push(e.index, decodeConfChangeData(e.data).confState);
      added = true;
    }
    return added;
  }

  switchToConfig(cs: ConfState): void {
    this.prs.applyConfig(cs, this.raftLog.lastIndex());
    if (this.state !== StateType.Leader) return;
    if (this.leadTransferee !== NONE && !this.prs.isVoter(this.leadTransferee)) this.leadTransferee = NONE;
    if (!this.maybeCommit()) {
      for (const id of this.prs.progress.keys()) if (id !== this.id) maybeSendAppend(this, id, false);
    } else {
      bcastAppend(this);
    }
  }

  /** Leader: commits what a quorum holds; steps down once its own removal commits. */
  maybeCommit(): boolean {
    const ok = this.raftLog.maybeCommit(this.prs.committed(), this.term);
    if (ok && !this.prs.isVoter(this.id) && this.raftLog.committed >= this.confHistory.lastIndex()) {
      // Removed (or demoted) and that configuration is committed: hand over (§4.2.2).
      bcastAppend(this);
      this.becomeFollower(this.term, NONE);
    }
    return ok;
  }

  /** Installs a snapshot from the leader; false if it is stale or the log already has it. */
  restore(s: Snapshot): boolean {
    const idx = s.metadata.index;
    if (idx <= this.raftLog.committed) return false;
    if (this.raftLog.matchTerm(idx, s.metadata.term)) {
      this.raftLog.commitTo(idx);
      return false;
    }
    this.raftLog.restore(s);
    this.confHistory.reset(idx, s.metadata.confState);
    this.prs.applyConfig(s.metadata.confState, this.raftLog.lastIndex());
    return true;
  }

  /** A snapshot sent to `id` failed (true) or was installed (false); called by the shell. */
  reportSnapshot(id: NodeId, failed: boolean): void {
    const pr = this.prs.progress.get(id);
    if (this.state !== StateType.Leader || pr === undefined || pr.state !== ProgressState.Snapshot) return;
    if (failed) pr.pendingSnapshot = 0;
    pr.becomeProbe();
    // Wait for a heartbeat answer before probing again.
    pr.probeSent = true;
  }

  /** The shell could not deliver a message to `id`: stop pipelining to it until it answers. */
  reportUnreachable(id: NodeId): void {
    const pr = this.prs.progress.get(id);
    if (this.state !== StateType.Leader || pr === undefined) return;
    if (pr.state === ProgressState.Replicate) pr.becomeProbe();
  }

  pendingSnapshotTimedOut(sentTick: number): boolean {
    return this.ticks - sentTick > this.snapshotTimeoutTicks;
  }

  queuePendingReadIndex(m: Message): void {
    if (this.pendingReadIndexMessages.length < MAX_PENDING_READ_INDEX_MESSAGES) this.pendingReadIndexMessages.push(m);
  }

  bcastHeartbeat(ctx: Uint8Array): void {
    bcastHeartbeat(this, ctx);
  }
}
