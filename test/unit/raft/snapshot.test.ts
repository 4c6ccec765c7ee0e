// Snapshots and durability: the shell hands in a state-machine snapshot, the log is
// compacted, lagging and new followers are caught up with InstallSnapshot; a restarted node
// recovers from exactly what Ready asked it to persist.
import { describe, expect, it } from 'vitest';
import { MemoryStorage, MessageType, RawNode } from '../../../core/src/raft/index.ts';
import { Prng } from '../../../core/src/testing/prng.ts';
import { Cluster, dec, enc } from './harness.ts';

/** Snapshots node `id` at its applied index (state = the applied data, JSON) and compacts. */
function snapshotAndCompact(c: Cluster, id: number): number {
  const n = c.node(id);
  const applied = n.rn.raft.raftLog.applied;
  n.storage.createSnapshot(applied, n.rn.confStateAt(applied), enc(JSON.stringify(c.appliedData(id))));
  n.storage.compact(applied);
  n.rn.compacted(applied);
  return applied;
}

describe('snapshots', () => {
  it('snapshot install: a follower behind the compacted log is caught up with InstallSnapshot', () => {
    const c = new Cluster([1, 2, 3]);
    c.elect(1);
    c.isolate(3);
    for (let k = 0; k < 10; k++) c.node(1).rn.propose(enc(`s${k}`));
    c.stabilize();
    const at = snapshotAndCompact(c, 1);
    c.node(1).rn.propose(enc('after'));
    c.stabilize();
    let snapshots = 0;
    c.drop = (m) => {
      if (m.type === MessageType.Snapshot) snapshots++;
      return false;
    };
    c.tickAll(3);
    expect(snapshots).toBe(1);
    const n3 = c.node(3);
    expect(n3.storage.snapshot().metadata.index).toBe(at);
    // The state machine comes from the snapshot data, then the log continues.
    expect(JSON.parse(dec(n3.storage.snapshot().data))).toEqual(Array.from({ length: 10 }, (_, k) => `s${k}`));
    expect(c.appliedData(3)).toEqual(['after']);
    expect(n3.rn.raft.raftLog.applied).toBe(c.node(1).rn.raft.raftLog.applied);
  });

  it('a lost snapshot is retried after the snapshot timeout', () => {
    const c = new Cluster([1, 2, 3], { electionTimeoutTicks: 10 });
    c.elect(1);
    c.isolate(3);
    for (let k = 0; k < 5; k++) c.node(1).rn.propose(enc(`s${k}`));
    c.stabilize();
    snapshotAndCompact(c, 1);
    let sent = 0;
    c.drop = (m) => {
      if (m.type !== MessageType.Snapshot) return false;
      return ++sent === 1;
    };
    c.tickAll(60);
    expect(sent).toBe(2);
    expect(c.node(3).rn.raft.raftLog.applied).toBe(c.node(1).rn.raft.raftLog.applied);
  });

  it('restart from persisted state: term, vote and log survive; the node rejoins', () => {
    const c = new Cluster([1, 2, 3]);
    c.elect(1);
    for (let k = 0; k < 5; k++) c.node(1).rn.propose(enc(`d${k}`));
    c.stabilize();
    const before = c.node(2).rn.raft;
    const hs = before.hardState();
    const n2 = c.start(2, c.node(2).storage);
    expect(n2.rn.raft.hardState()).toEqual(hs);
    expect(n2.rn.raft.raftLog.lastIndex()).toBe(before.raftLog.lastIndex());
    c.node(1).rn.propose(enc('more'));
    c.tickAll(2);
    // Without `applied`, the restarted node is handed its committed entries again.
    expect(c.appliedData(2)).toEqual(['d0', 'd1', 'd2', 'd3', 'd4', 'more']);
  });

  it('restart with `applied`: entries already applied are not handed out again', () => {
    const c = new Cluster([1, 2, 3]);
    c.elect(1);
    c.node(1).rn.propose(enc('x'));
    c.stabilize();
    const applied = c.node(2).rn.raft.raftLog.applied;
    const rn = new RawNode({ id: 2, storage: c.node(2).storage, random: new Prng(1), applied });
    expect(rn.raft.raftLog.applied).toBe(applied);
    expect(rn.raft.raftLog.hasNextCommittedEntries()).toBe(false);
    const fresh = new RawNode({ id: 2, storage: c.node(2).storage, random: new Prng(1) });
    expect(fresh.raft.raftLog.hasNextCommittedEntries()).toBe(true);
  });

  it('a crash before persisting loses the unpersisted entries, and nothing was acknowledged', () => {
    const c = new Cluster([1, 2, 3]);
    c.elect(1);
    c.node(1).rn.propose(enc('a'));
    c.handleReady(c.node(1));
    const appends = c.queue.filter((m) => m.to === 2);
    c.queue = [];
    for (const m of appends) c.node(2).rn.step(m);
    // Node 2 crashes before handling its Ready: its storage never saw 'a'.
    const last = c.node(2).storage.lastIndex();
    const restarted = c.start(2, c.node(2).storage);
    expect(restarted.rn.raft.raftLog.lastIndex()).toBe(last);
    expect(c.node(1).rn.raft.prs.progress.get(2)!.match).toBeLessThan(last + 1);
    c.tickAll(3);
    expect(c.appliedData(2)).toEqual(['a']);
  });

  it('MemoryStorage rejects out-of-date snapshots and compaction below the first index', () => {
    const s = new MemoryStorage();
    expect(() => s.compact(0)).toThrow();
    expect(() => s.applySnapshot({ data: enc(''), metadata: { index: 0, term: 0, confState: { voters: [], learners: [] } } })).toThrow();
  });
});
