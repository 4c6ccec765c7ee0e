// Single-server membership changes, learners and promotion, and leader transfer.
import { describe, expect, it } from 'vitest';
import {
  ConfChangeType,
  EMPTY_BYTES,
  InvalidConfChangeError,
  MessageType,
  ProposalDroppedError,
  StateType,
  applyConfChange,
  voterDistance,
} from '../../../core/src/raft/index.ts';
import { Cluster, enc } from './harness.ts';

const cc = (type: ConfChangeType, nodeId: number) => ({ type, nodeId, context: EMPTY_BYTES });

describe('membership changes', () => {
  it('single-server membership change: add a learner, which replicates but does not vote or count', () => {
    const c = new Cluster([1, 2, 3]);
    c.elect(1);
    c.node(1).rn.propose(enc('a'));
    c.stabilize();
    c.start(4);
    c.node(1).rn.proposeConfChange(cc(ConfChangeType.AddLearner, 4));
    c.stabilize();
    expect(c.node(1).rn.status().confState).toEqual({ voters: [1, 2, 3], learners: [4] });
    c.node(1).rn.propose(enc('b'));
    c.stabilize();
    expect(c.appliedData(4)).toEqual(['a', 'b']);
    // Learners never campaign.
    c.tick(4, 100);
    expect(c.node(4).rn.raft.state).toBe(StateType.Follower);
    // A learner's ack does not count toward commit: with 2 and 3 cut off nothing commits.
    c.drop = (m) => m.to === 2 || m.to === 3;
    const committed = c.node(1).rn.raft.raftLog.committed;
    c.node(1).rn.propose(enc('c'));
    c.stabilize();
    expect(c.node(1).rn.raft.raftLog.committed).toBe(committed);
  });

  it('learners catch up, then are promoted to voters', () => {
    const c = new Cluster([1, 2, 3]);
    c.elect(1);
    c.start(4);
    c.node(1).rn.proposeConfChange(cc(ConfChangeType.AddLearner, 4));
    c.stabilize();
    c.node(1).rn.proposeConfChange(cc(ConfChangeType.AddVoter, 4));
    c.stabilize();
    expect(c.node(1).rn.status().confState).toEqual({ voters: [1, 2, 3, 4], learners: [] });
    expect(c.node(4).rn.raft.promotable()).toBe(true);
    // Now a majority is 3 of 4: with 2 and 3 cut off, 1 and 4 cannot commit.
    c.drop = (m) => m.to === 2 || m.to === 3;
    const committed = c.node(1).rn.raft.raftLog.committed;
    c.node(1).rn.propose(enc('x'));
    c.stabilize();
    expect(c.node(1).rn.raft.raftLog.committed).toBe(committed);
  });

  it('remove a voter; the majority shrinks', () => {
    const c = new Cluster([1, 2, 3]);
    c.elect(1);
    c.node(1).rn.proposeConfChange(cc(ConfChangeType.RemoveNode, 3));
    c.stabilize();
    expect(c.node(1).rn.status().confState.voters).toEqual([1, 2]);
    c.drop = (m) => m.to === 3;
    c.node(1).rn.propose(enc('y'));
    c.stabilize();
    expect(c.appliedData(2)).toEqual(['y']);
  });

  it('removing the leader: it keeps leading until the removal commits, then steps down', () => {
    const c = new Cluster([1, 2, 3]);
    c.elect(1);
    c.node(1).rn.proposeConfChange(cc(ConfChangeType.RemoveNode, 1));
    c.stabilize();
    expect(c.node(1).rn.raft.state).toBe(StateType.Follower);
    c.tickAll(60);
    const leaders = c.leaders();
    expect(leaders.length).toBe(1);
    expect(leaders[0]).not.toBe(1);
  });

  it('one change at a time: a second change is refused while the first is uncommitted', () => {
    const c = new Cluster([1, 2, 3]);
    c.elect(1);
    c.drop = () => true;
    c.node(1).rn.proposeConfChange(cc(ConfChangeType.AddLearner, 4));
    c.stabilize();
    expect(() => c.node(1).rn.proposeConfChange(cc(ConfChangeType.AddLearner, 5))).toThrow(ProposalDroppedError);
  });

  it('a new leader makes no change before it commits an entry of its term', () => {
    const c = new Cluster([1, 2, 3]);
    c.drop = (m) => m.type === MessageType.AppendResponse;
    c.elect(1);
    expect(() => c.node(1).rn.proposeConfChange(cc(ConfChangeType.AddLearner, 4))).toThrow(ProposalDroppedError);
  });

  it('confchange returns a new configuration and checks invariants', () => {
    const cs = { voters: [1, 2, 3], learners: [] };
    const next = applyConfChange(cs, cc(ConfChangeType.AddLearner, 4));
    expect(cs).toEqual({ voters: [1, 2, 3], learners: [] });
    expect(next).toEqual({ voters: [1, 2, 3], learners: [4] });
    expect(voterDistance(cs, applyConfChange(next, cc(ConfChangeType.AddVoter, 4)))).toBe(1);
    expect(() => applyConfChange({ voters: [1], learners: [] }, cc(ConfChangeType.RemoveNode, 1))).toThrow(InvalidConfChangeError);
    expect(() => applyConfChange(cs, cc(ConfChangeType.AddVoter, 0))).toThrow(InvalidConfChangeError);
  });

  it('a node whose configuration entry is truncated falls back to the previous configuration', () => {
    const c = new Cluster([1, 2, 3]);
    c.elect(1);
    c.drop = () => true;
    c.node(1).rn.proposeConfChange(cc(ConfChangeType.AddLearner, 4));
    c.stabilize();
    // The configuration takes effect on append, committed or not.
    expect(c.node(1).rn.status().confState.learners).toEqual([4]);
    c.drop = (m) => m.from === 1 || m.to === 1;
    c.elect(2);
    c.node(2).rn.propose(enc('b'));
    c.stabilize();
    c.heal();
    c.tickAll(3);
    expect(c.node(1).rn.raft.state).toBe(StateType.Follower);
    expect(c.node(1).rn.status().confState).toEqual({ voters: [1, 2, 3], learners: [] });
    expect(c.appliedData(1)).toEqual(['b']);
  });
});

describe('leader transfer', () => {
  it('leader transfer: the target is caught up, then campaigns at once and wins', () => {
    const c = new Cluster([1, 2, 3]);
    c.elect(1);
    c.drop = (m) => m.to === 3;
    c.node(1).rn.propose(enc('a'));
    c.stabilize();
    c.heal();
    const term = c.node(1).rn.raft.term;
    c.node(1).rn.transferLeader(3);
    c.stabilize();
    expect(c.leaders()).toEqual([3]);
    expect(c.node(3).rn.raft.term).toBe(term + 1);
    expect(c.appliedData(3)).toEqual(['a']);
  });

  it('proposals are refused while a transfer is in progress, and a stuck transfer is abandoned', () => {
    const c = new Cluster([1, 2, 3], { electionTimeoutTicks: 10 });
    c.elect(1);
    c.isolate(3);
    c.node(1).rn.transferLeader(3);
    c.stabilize();
    expect(() => c.node(1).rn.propose(enc('x'))).toThrow(ProposalDroppedError);
    for (let k = 0; k < 10; k++) {
      c.tick(1);
      c.tick(2);
      c.stabilize();
    }
    expect(c.node(1).rn.raft.leadTransferee).toBe(0);
    c.node(1).rn.propose(enc('x'));
  });

  it('a transfer request at a follower is forwarded to the leader', () => {
    const c = new Cluster([1, 2, 3]);
    c.elect(1);
    c.node(2).rn.transferLeader(2);
    c.stabilize();
    expect(c.leaders()).toEqual([2]);
  });
});
