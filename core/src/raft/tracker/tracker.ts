// The leader's view of the group: the configuration, one Progress per member, and the votes
// of the current election. Quorum questions are answered by quorum/ over this data.
import { type AckedIndexer, VoteResult, majorityCommittedIndex, majorityVoteResult } from '../quorum/majority.ts';
import type { ConfState, NodeId } from '../types.ts';
import { Progress } from './progress.ts';

export interface TrackerConfig {
  /** Sorted ascending. */
  voters: NodeId[];
  /** Sorted ascending. Invariant: disjoint from voters. */
  learners: NodeId[];
}

export class ProgressTracker implements AckedIndexer {
  config: TrackerConfig;
  progress: Map<NodeId, Progress>;
  votes: Map<NodeId, boolean>;
  readonly maxInflight: number;
  readonly maxInflightBytes: number;
  /** Scratch buffer for the commit computation (sized to the largest voter set seen). */
  private scratch: number[];

  constructor(maxInflight: number, maxInflightBytes: number) {
    this.config = { voters: [], learners: [] };
    this.progress = new Map();
    this.votes = new Map();
    this.maxInflight = maxInflight;
    this.maxInflightBytes = maxInflightBytes;
    this.scratch = [];
  }

  confState(): ConfState {
    return { voters: this.config.voters.slice(), learners: this.config.learners.slice() };
  }

  ackedIndex(id: NodeId): number | undefined {
    return this.progress.get(id)?.match;
  }

  /** The largest index replicated on a majority of voters. */
  committed(): number {
    if (this.scratch.length < this.config.voters.length) this.scratch = new Array<number>(this.config.voters.length).fill(0);
    return majorityCommittedIndex(this.config.voters, this, this.scratch);
  }

  isVoter(id: NodeId): boolean {
    return this.config.voters.includes(id);
  }

  isLearner(id: NodeId): boolean {
    return this.config.learners.includes(id);
  }

  /** Whether a node with this id may campaign: it must be a voter. */
  promotable(id: NodeId): boolean {
    return this.isVoter(id);
  }

  resetVotes(): void {
    this.votes.clear();
  }

  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const id of this.config.voters) {
      const v = this.votes.get(id);
      if (v === true) granted++;
      else if (v === false) rejected++;
    }
    return { granted, rejected, result: majorityVoteResult(this.config.voters, this.votes) };
  }

  /** Whether a majority of voters was recently active (self counts as active). */
  quorumActive(self: NodeId): boolean {
    const votes = new Map<NodeId, boolean>();
    for (const id of this.config.voters) {
      const pr = this.progress.get(id);
      votes.set(id, id === self || (pr !== undefined && pr.recentActive));
    }
    return majorityVoteResult(this.config.voters, votes) === VoteResult.Won;
  }

  /** The tick count acked by a majority (self at `nowTick`): the lease anchor. */
  quorumAckedTick(self: NodeId, nowTick: number): number {
    const indexer: AckedIndexer = {
      ackedIndex: (id) => (id === self ? nowTick : (this.progress.get(id)?.ackedTick ?? -Infinity)),
    };
    const voters = this.config.voters;
    // majorityCommittedIndex maps undefined to 0; -Infinity must survive, so count directly.
    const ticks = voters.map((id) => indexer.ackedIndex(id) ?? -Infinity).sort((a, b) => b - a);
    return voters.length === 0 ? nowTick : ticks[Math.floor(voters.length / 2)]!;
  }

  /** Resets every progress for a new leader term; this node's own match is `selfMatch`. */
  resetProgress(lastIndex: number, self: NodeId, selfMatch: number): void {
    for (const [id, pr] of this.progress) {
      const fresh = new Progress(lastIndex + 1, this.maxInflight, this.maxInflightBytes, pr.isLearner);
      if (id === self) fresh.match = selfMatch;
      this.progress.set(id, fresh);
    }
  }

  /** Installs a configuration, keeping the progress of members that stay. */
  applyConfig(cs: ConfState, lastIndex: number): void {
    const voters = cs.voters.slice().sort((a, b) => a - b);
    const learners = cs.learners.slice().sort((a, b) => a - b);
    const next = new Map<NodeId, Progress>();
    for (const id of voters.concat(learners)) {
      let pr = this.progress.get(id);
      if (pr === undefined) {
        pr = new Progress(lastIndex + 1, this.maxInflight, this.maxInflightBytes, false);
        // A new member is presumed active so it does not count against check-quorum at once.
        pr.recentActive = true;
      }
      pr.isLearner = learners.includes(id);
      next.set(id, pr);
    }
    this.config = { voters, learners };
    this.progress = next;
  }
}
