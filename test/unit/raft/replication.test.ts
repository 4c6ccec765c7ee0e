// Paper rules about log replication: log matching and conflict truncation, commit only
// current-term entries by counting, fast backtracking, and inflight flow control.
import { describe, expect, it } from 'vitest';
import {
  type Entry,
  EntryType,
  MemoryStorage,
  MessageType,
  ProgressState,
  bootstrapState,
} from '../../../core/src/raft/index.ts';
import { Cluster, enc } from './harness.ts';

function entry(index: number, term: number, data = `e${index}`): Entry {
  return { index, term, type: EntryType.Normal, data: enc(data) };
}

/** A storage holding the bootstrap entry for voters 1..3, then `tail`, with the given term. */
function storageWith(tail: Entry[], term: number): MemoryStorage {
  const s = new MemoryStorage();
  const b = bootstrapState([1, 2, 3]);
  s.append([b.entry, ...tail]);
  s.setHardState({ term, vote: 0, commit: 1 });
  return s;
}

describe('replication', () => {
  it('log matching: a follower truncates a conflicting uncommitted suffix and adopts the leader log', () => {
    const c = new Cluster([1, 2, 3]);
    c.elect(1);
    c.node(1).rn.propose(enc('a'));
    c.stabilize();
    // Node 1 appends 'lost' alone, then loses leadership to 2, which appends 'b'.
    c.drop = () => true;
    c.node(1).rn.propose(enc('lost'));
    c.stabilize();
    c.drop = (m) => m.from === 1 || m.to === 1;
    c.elect(2);
    c.node(2).rn.propose(enc('b'));
    c.stabilize();
    c.heal();
    c.tickAll(3);
    for (const id of [1, 2, 3]) expect(c.appliedData(id)).toEqual(['a', 'b']);
    const l1 = c.node(1).storage;
    const l2 = c.node(2).storage;
    expect(l1.lastIndex()).toBe(l2.lastIndex());
    for (let i = 1; i <= l1.lastIndex(); i++) expect(l1.term(i)).toBe(l2.term(i));
  });

  it('commit only current-term entries by counting (Figure 8)', () => {
    // Node 1 holds an entry of term 2 that the others lack; it is elected in term 3.
    const c = new Cluster([1, 2, 3], { maxSizePerMessageBytes: 1 });
    c.start(1, storageWith([entry(2, 2, 'old')], 2));
    c.start(2, storageWith([], 2));
    c.start(3, storageWith([], 2));
    // Let the old-term entry reach a majority, but strip the new leader's own empty entry.
    c.drop = (m) => {
      if (m.type === MessageType.Append) m.entries = m.entries.filter((e) => e.term !== 3);
      return false;
    };
    c.elect(1);
    const r1 = c.node(1).rn.raft;
    expect(r1.term).toBe(3);
    expect(r1.prs.progress.get(2)!.match).toBeGreaterThanOrEqual(2);
    expect(r1.prs.committed()).toBeGreaterThanOrEqual(2);
    // A majority holds index 2, but it is from term 2: not committed by counting.
    expect(r1.raftLog.committed).toBe(1);
    c.heal();
    c.tickAll(2);
    // Once the term-3 entry is on a majority, it commits, and index 2 with it.
    expect(r1.raftLog.committed).toBe(3);
    expect(c.appliedData(2)).toEqual(['old']);
  });

  it('fast backtracking: a long conflicting follower log is repaired in one rejection', () => {
    const leaderTail: Entry[] = [];
    for (let i = 2; i <= 11; i++) leaderTail.push(entry(i, 2));
    for (let i = 12; i <= 20; i++) leaderTail.push(entry(i, 3));
    const followerTail: Entry[] = [];
    for (let i = 2; i <= 11; i++) followerTail.push(entry(i, 2));
    for (let i = 12; i <= 101; i++) followerTail.push(entry(i, 2, `stale${i}`));
    const c = new Cluster([1, 2, 3]);
    c.start(1, storageWith(leaderTail, 3));
    c.start(2, storageWith(followerTail, 3));
    c.start(3, storageWith(leaderTail, 3));
    let rejections = 0;
    c.drop = (m) => {
      if (m.type === MessageType.AppendResponse && m.from === 2 && m.reject) rejections++;
      return false;
    };
    c.elect(1);
    c.tickAll(2);
    expect(c.node(2).storage.lastIndex()).toBe(c.node(1).storage.lastIndex());
    expect(c.node(2).storage.term(15)).toBe(3);
    // One rejection skips the whole conflicting term (without the hint: about 90).
    expect(rejections).toBeLessThanOrEqual(2);
  });

  it('inflight flow control: at most maxInflightMessages appends are outstanding per follower', () => {
    const c = new Cluster([1, 2, 3], { maxInflightMessages: 3, maxSizePerMessageBytes: 1 });
    c.elect(1);
    expect(c.node(1).rn.raft.prs.progress.get(2)!.state).toBe(ProgressState.Replicate);
    let appendsTo2 = 0;
    c.drop = (m) => {
      if (m.to === 2 && m.type === MessageType.Append) appendsTo2++;
      return m.to === 2 || m.from === 2;
    };
    for (let k = 0; k < 10; k++) c.node(1).rn.propose(enc(`p${k}`));
    c.stabilize();
    expect(appendsTo2).toBe(3);
    expect(c.node(1).rn.raft.prs.progress.get(2)!.inflights.full()).toBe(true);
    // Node 3 is not held back by node 2's window.
    expect(c.appliedData(3).length).toBe(10);
    c.heal();
    c.tickAll(5);
    expect(c.appliedData(2).length).toBe(10);
  });

  it('inflight flow control: the byte limit pauses the pipeline too', () => {
    const c = new Cluster([1, 2, 3], { maxInflightMessages: 100, maxInflightBytes: 100, maxSizePerMessageBytes: 1 });
    c.elect(1);
    let appendsTo2 = 0;
    c.drop = (m) => {
      if (m.to === 2 && m.type === MessageType.Append) appendsTo2++;
      return m.to === 2 || m.from === 2;
    };
    // Each entry counts 16 + 24 = 40 bytes: the third reaches the 100-byte limit.
    for (let k = 0; k < 10; k++) c.node(1).rn.propose(enc('x'.repeat(24)));
    c.stabilize();
    expect(appendsTo2).toBe(3);
    expect(c.node(1).rn.raft.prs.progress.get(2)!.inflights.sizeBytes()).toBe(120);
  });

  it('batching: one append carries many proposals, and pipelining sends before acks return', () => {
    const c = new Cluster([1, 2, 3]);
    c.elect(1);
    const datas: Uint8Array[] = [];
    for (let k = 0; k < 100; k++) datas.push(enc(`b${k}`));
    c.node(1).rn.proposeBatch(datas);
    c.handleReady(c.node(1));
    const appends = c.queue.filter((m) => m.type === MessageType.Append && m.to === 2);
    expect(appends.length).toBe(1);
    expect(appends[0]!.entries.length).toBe(100);
    c.node(1).rn.propose(enc('next'));
    c.handleReady(c.node(1));
    // A second append goes out although the first is not acknowledged yet.
    expect(c.queue.filter((m) => m.type === MessageType.Append && m.to === 2).length).toBe(2);
    c.stabilize();
    expect(c.appliedData(3).length).toBe(101);
  });

  it('apply in order: committed entries reach the shell in log order, exactly once', () => {
    const c = new Cluster([1, 2, 3]);
    c.elect(1);
    for (let k = 0; k < 20; k++) {
      c.node(1).rn.propose(enc(`o${k}`));
      if (k % 3 === 0) c.stabilize();
    }
    c.stabilize();
    const expected = Array.from({ length: 20 }, (_, k) => `o${k}`);
    for (const id of [1, 2, 3]) expect(c.appliedData(id)).toEqual(expected);
  });
});
