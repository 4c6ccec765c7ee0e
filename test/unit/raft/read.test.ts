// Linearizable reads: ReadIndex (heartbeat round) and the optional leader lease.
import { describe, expect, it } from 'vitest';
import { MessageType, StateType } from '../../../core/src/raft/index.ts';
import { Cluster, dec, enc } from './harness.ts';

describe('ReadIndex', () => {
  it('ReadIndex at the leader completes after a heartbeat quorum, at the commit index', () => {
    const c = new Cluster([1, 2, 3]);
    c.elect(1);
    c.node(1).rn.propose(enc('a'));
    c.stabilize();
    let heartbeats = 0;
    c.drop = (m) => {
      if (m.type === MessageType.Heartbeat && m.context.length > 0) heartbeats++;
      return false;
    };
    c.node(1).rn.readIndex(enc('r1'));
    c.stabilize();
    expect(heartbeats).toBe(2);
    expect(c.node(1).reads.map((r) => [r.index, dec(r.context)])).toEqual([[c.node(1).rn.raft.raftLog.committed, 'r1']]);
  });

  it('ReadIndex at a follower is forwarded to the leader and answered', () => {
    const c = new Cluster([1, 2, 3]);
    c.elect(1);
    c.node(1).rn.propose(enc('a'));
    c.stabilize();
    c.node(3).rn.readIndex(enc('f1'));
    c.stabilize();
    expect(c.node(3).reads.length).toBe(1);
    expect(c.node(3).reads[0]!.index).toBe(c.node(1).rn.raft.raftLog.committed);
  });

  it('ReadIndex waits until the leader has committed an entry of its term', () => {
    const c = new Cluster([1, 2, 3]);
    c.drop = (m) => m.type === MessageType.AppendResponse;
    c.elect(1);
    expect(c.node(1).rn.raft.state).toBe(StateType.Leader);
    c.node(1).rn.readIndex(enc('early'));
    c.stabilize();
    expect(c.node(1).reads.length).toBe(0);
    c.heal();
    c.tickAll(3);
    expect(c.node(1).reads.length).toBe(1);
    expect(c.node(1).reads[0]!.index).toBe(c.node(1).rn.raft.raftLog.committed);
  });

  it('a deposed leader cannot complete a ReadIndex (no quorum answers it)', () => {
    const c = new Cluster([1, 2, 3], { checkQuorum: false });
    c.elect(1);
    c.isolate(1);
    c.elect(2);
    c.node(2).rn.propose(enc('new'));
    c.stabilize();
    expect(c.node(1).rn.raft.state).toBe(StateType.Leader);
    c.node(1).rn.readIndex(enc('stale'));
    for (let k = 0; k < 5; k++) c.tickAll(1);
    expect(c.node(1).reads.length).toBe(0);
  });
});

describe('leader lease', () => {
  const opts = { leaseReads: true, checkQuorum: true, electionTimeoutTicks: 10, maxClockDriftTicks: 2 };

  it('lease: reads are served locally, without a heartbeat round, while the lease holds', () => {
    const c = new Cluster([1, 2, 3], opts);
    c.elect(1);
    c.tickAll(2);
    c.drop = () => true;
    c.node(1).rn.readIndex(enc('l1'));
    c.stabilize();
    expect(c.node(1).reads.map((r) => dec(r.context))).toEqual(['l1']);
  });

  it('lease: expires electionTimeout - maxClockDrift ticks after the last quorum-acked heartbeat', () => {
    const c = new Cluster([1, 2, 3], opts);
    c.elect(1);
    c.tickAll(1);
    const r = c.node(1).rn.raft;
    const anchor = r.prs.quorumAckedTick(1, r.ticks);
    c.isolate(1);
    // Ticks until the lease lapses: anchor + 10 - 2.
    while (r.ticks < anchor + 10 - 2 - 1) c.tick(1);
    expect(r.leaseValid()).toBe(true);
    c.tick(1);
    expect(r.leaseValid()).toBe(false);
    // Without the lease the read needs a heartbeat round, which cannot succeed now.
    c.node(1).rn.readIndex(enc('l2'));
    c.stabilize();
    expect(c.node(1).reads.length).toBe(0);
  });

  it('lease: a voter that heard from the leader ignores vote requests for an election timeout', () => {
    const c = new Cluster([1, 2, 3], opts);
    c.elect(1);
    c.tickAll(1);
    const term = c.node(2).rn.raft.term;
    c.node(3).rn.raft.becomeFollower(term, 0);
    c.node(3).rn.raft.hup(false); // pre-vote, then vote: both ignored inside the lease
    c.drop = (m) => m.from === 1 || m.to === 1;
    c.stabilize();
    expect(c.node(2).rn.raft.term).toBe(term);
    expect(c.node(2).rn.raft.vote).not.toBe(3);
  });

  it('lease: a restarted voter does not vote during its first election timeout', () => {
    const c = new Cluster([1, 2, 3], opts);
    c.elect(1);
    c.tickAll(1);
    const n2 = c.start(2, c.node(2).storage);
    expect(n2.rn.raft.inLease()).toBe(true);
    for (let k = 0; k < 10; k++) n2.rn.tick();
    expect(n2.rn.raft.inLease()).toBe(false);
  });

  it('lease: a leader that sent TimeoutNow never serves lease reads again in its term', () => {
    const c = new Cluster([1, 2, 3], opts);
    c.elect(1);
    c.tickAll(1);
    expect(c.node(1).rn.raft.leaseValid()).toBe(true);
    // The transfer's TimeoutNow is lost (it could also arrive much later).
    c.drop = (m) => m.type === MessageType.TimeoutNow;
    c.node(1).rn.transferLeader(3);
    c.stabilize();
    for (let k = 0; k < 12; k++) c.tickAll(1);
    expect(c.node(1).rn.raft.leadTransferee).toBe(0);
    expect(c.node(1).rn.raft.state).toBe(StateType.Leader);
    expect(c.node(1).rn.raft.leaseValid()).toBe(false);
  });

  it('lease reads are off by default', () => {
    const c = new Cluster([1, 2, 3]);
    c.elect(1);
    c.tickAll(2);
    expect(c.node(1).rn.raft.leaseValid()).toBe(false);
  });
});
