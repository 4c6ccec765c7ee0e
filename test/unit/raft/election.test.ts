// Paper rules about elections: election safety, the election restriction, randomized
// timeouts, pre-vote and check-quorum.
import { describe, expect, it } from 'vitest';
import { MemoryStorage, MessageType, StateType } from '../../../core/src/raft/index.ts';
import { Prng } from '../../../core/src/testing/prng.ts';
import { Cluster, enc } from './harness.ts';

describe('elections', () => {
  it('election safety: at most one leader per term, under random message loss', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const c = new Cluster([1, 2, 3, 4, 5], { preVote: false, checkQuorum: false }, seed);
      const prng = new Prng(seed);
      c.drop = () => prng.chance(0.3);
      const leaderOfTerm = new Map<number, number>();
      for (let t = 0; t < 300; t++) {
        c.tickAll(1);
        for (const n of c.nodes.values()) {
          if (n.rn.raft.state !== StateType.Leader) continue;
          const prev = leaderOfTerm.get(n.rn.raft.term);
          if (prev !== undefined) expect(prev, `seed ${seed} term ${n.rn.raft.term}`).toBe(n.id);
          leaderOfTerm.set(n.rn.raft.term, n.id);
        }
      }
      expect(leaderOfTerm.size, `seed ${seed}`).toBeGreaterThan(0);
    }
  });

  it('election restriction: a candidate whose log is behind a majority cannot win', () => {
    const c = new Cluster([1, 2, 3]);
    c.elect(1);
    c.drop = (m) => m.to === 3;
    c.node(1).rn.propose(enc('x'));
    c.stabilize();
    c.heal();
    // Node 3 misses 'x'; its campaign must fail against 1 and 2.
    c.drop = (m) => m.from === 1 || m.to === 1;
    c.node(3).rn.raft.becomeFollower(c.node(3).rn.raft.term, 0);
    c.node(3).rn.raft.hup(true);
    c.stabilize();
    expect(c.node(3).rn.raft.state).not.toBe(StateType.Leader);
  });

  it('randomized election timeouts lie in [e, 2e) and differ between nodes', () => {
    const seen = new Set<number>();
    const prng = new Prng(7);
    for (let k = 0; k < 50; k++) {
      const c = new Cluster([1], { electionTimeoutTicks: 10 }, prng.nextU32());
      const t = c.node(1).rn.raft.randomizedElectionTimeout;
      expect(t).toBeGreaterThanOrEqual(10);
      expect(t).toBeLessThan(20);
      seen.add(t);
    }
    expect(seen.size).toBeGreaterThan(3);
  });

  it('a follower campaigns after its election timeout and becomes leader', () => {
    const c = new Cluster([1, 2, 3]);
    c.tickAll(40);
    expect(c.leaders().length).toBe(1);
  });

  it('pre-vote does not disrupt: a partitioned node rejoining does not bump the term or depose the leader', () => {
    const c = new Cluster([1, 2, 3], { preVote: true, checkQuorum: false });
    c.elect(1);
    const term = c.node(1).rn.raft.term;
    c.isolate(3);
    c.tickAll(100);
    // Without pre-vote node 3 would have campaigned with ever higher terms.
    expect(c.node(3).rn.raft.term).toBe(term);
    c.heal();
    c.tickAll(5);
    expect(c.leaders()).toEqual([1]);
    expect(c.node(1).rn.raft.term).toBe(term);
  });

  it('without pre-vote (contrast): the partitioned node inflates its term and disrupts the leader', () => {
    const c = new Cluster([1, 2, 3], { preVote: false, checkQuorum: false });
    c.elect(1);
    const term = c.node(1).rn.raft.term;
    c.isolate(3);
    c.tickAll(100);
    expect(c.node(3).rn.raft.term).toBeGreaterThan(term + 1);
    c.heal();
    c.tickAll(50);
    expect(c.node(1).rn.raft.term).toBeGreaterThan(term);
  });

  it('check-quorum step-down: a leader that cannot hear a majority steps down within an election timeout', () => {
    const c = new Cluster([1, 2, 3], { checkQuorum: true, electionTimeoutTicks: 10 });
    c.elect(1);
    c.isolate(1);
    for (let t = 0; t < 2 * 10 && c.node(1).rn.raft.state === StateType.Leader; t++) c.tick(1);
    expect(c.node(1).rn.raft.state).toBe(StateType.Follower);
  });

  it('check-quorum: a leader hearing a majority stays leader', () => {
    const c = new Cluster([1, 2, 3], { checkQuorum: true });
    c.elect(1);
    c.isolate(3);
    for (let t = 0; t < 50; t++) {
      c.tick(1);
      c.tick(2);
      c.stabilize();
    }
    expect(c.node(1).rn.raft.state).toBe(StateType.Leader);
  });

  it('a vote is persisted in the hard state before the vote response is sent', () => {
    const c = new Cluster([1, 2, 3]);
    c.node(1).rn.raft.hup(true);
    c.handleReady(c.node(1));
    const votes = c.queue.filter((m) => m.type === MessageType.Vote);
    c.queue = [];
    c.node(2).rn.step(votes.find((m) => m.to === 2)!);
    const rd = c.node(2).rn.ready();
    expect(rd.hardState?.vote).toBe(1);
    expect(rd.messages.some((m) => m.type === MessageType.VoteResponse && !m.reject)).toBe(true);
    expect(c.node(2).storage).toBeInstanceOf(MemoryStorage);
  });
});
