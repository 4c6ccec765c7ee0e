// Asynchronous storage writes (RaftConfig.asyncStorageWrites): Readys taken before the last
// one's writes are durable. In-progress entries are not handed out twice, committed entries
// never pass the durable index, a leader counts its own entries only once durable, and a
// write whose entries were replaced since is ignored when it reports durable.
import { describe, expect, it } from 'vitest';
import {
  type Entry,
  type Message,
  type Ready,
  EntryType,
  MemoryStorage,
  MessageType,
  RaftUsageError,
  RawNode,
  bootstrapState,
  message,
} from '../../../core/src/raft/index.ts';
import { Prng } from '../../../core/src/testing/prng.ts';
import { Cluster, type TestNode, dec, enc } from './harness.ts';

const ASYNC = { asyncStorageWrites: true };

/** Takes a plain Ready the asynchronous way: writes started (not durable), applied, accepted. */
function takeAndAccept(n: TestNode): Ready {
  const rd = n.rn.ready();
  expect(rd.barrier).toBe(false);
  n.storage.append(rd.entries);
  if (rd.hardState !== null) n.storage.setHardState(rd.hardState);
  for (const e of rd.committedEntries) if (e.type === EntryType.Normal && e.data.length > 0) n.applied.push(e);
  n.rn.acceptReady();
  return rd;
}

function lastOf(ents: Entry[]): Entry {
  expect(ents.length).toBeGreaterThan(0);
  return ents[ents.length - 1]!;
}

function appendsTo(msgs: Message[], to: number): Message[] {
  return msgs.filter((m) => m.to === to && m.type === MessageType.Append);
}

/** A settled 3-voter cluster (async mode) with node 1 leading. */
function threeVoters(): Cluster {
  const c = new Cluster([1, 2, 3], ASYNC);
  c.elect(1);
  expect(c.leaders()).toEqual([1]);
  return c;
}

describe('asynchronous storage writes', () => {
  it('in-progress entries are not handed out again, and hasReady goes false after acceptReady', () => {
    const c = threeVoters();
    const n1 = c.node(1);
    n1.rn.propose(enc('a'));
    const rd1 = takeAndAccept(n1);
    expect(rd1.entries.map((e) => dec(e.data))).toEqual(['a']);
    expect(n1.rn.hasReady()).toBe(false);
    n1.rn.propose(enc('b'));
    const rd2 = takeAndAccept(n1);
    expect(rd2.entries.map((e) => dec(e.data))).toEqual(['b']);
    expect(rd2.entries[0]!.index).toBe(lastOf(rd1.entries).index + 1);
    expect(n1.rn.hasReady()).toBe(false);
    // Both are still unstable until durable.
    expect(n1.rn.raft.raftLog.unstable.offset).toBe(rd1.entries[0]!.index);
  });

  it('3 voters: one follower ack while the leader is not durable commits nothing; appendDurable commits and tells the followers', () => {
    const c = threeVoters();
    const n1 = c.node(1);
    const before = n1.rn.raft.raftLog.committed;
    n1.rn.propose(enc('x'));
    const rd = takeAndAccept(n1);
    const x = lastOf(rd.entries);
    // Only node 2 gets the append; it persists (synchronously) and acks.
    for (const m of appendsTo(rd.messages, 2)) c.node(2).rn.step(m);
    expect(c.handleReady(c.node(2))).toBe(true);
    const acks = c.queue.filter((m) => m.to === 1);
    c.queue = [];
    expect(acks.some((m) => m.type === MessageType.AppendResponse && !m.reject && m.index >= x.index)).toBe(true);
    for (const m of acks) n1.rn.step(m);
    expect(n1.rn.raft.raftLog.committed).toBe(before);
    if (n1.rn.hasReady()) expect(takeAndAccept(n1).committedEntries).toEqual([]);
    // The leader's own write becomes durable: now the ack plus its own make a quorum.
    n1.rn.appendDurable(x.index, x.term);
    expect(n1.rn.raft.raftLog.committed).toBe(x.index);
    const after = takeAndAccept(n1);
    expect(after.committedEntries.map((e) => dec(e.data))).toEqual(['x']);
    expect(after.hardState?.commit).toBe(x.index);
    const commitMsgs = appendsTo(after.messages, 3).concat(appendsTo(after.messages, 2));
    expect(commitMsgs.some((m) => m.commit === x.index)).toBe(true);
  });

  it('single voter: an entry commits only after appendDurable', () => {
    const c = new Cluster([1], ASYNC);
    c.elect(1);
    expect(c.leaders()).toEqual([1]);
    const n1 = c.node(1);
    n1.rn.propose(enc('solo'));
    const rd = takeAndAccept(n1);
    const e = lastOf(rd.entries);
    expect(rd.committedEntries).toEqual([]);
    expect(n1.rn.raft.raftLog.committed).toBeLessThan(e.index);
    expect(n1.rn.hasReady()).toBe(false);
    n1.rn.appendDurable(e.index, e.term);
    expect(n1.rn.hasReady()).toBe(true);
    const next = takeAndAccept(n1);
    expect(next.committedEntries.map((x) => dec(x.data))).toEqual(['solo']);
    expect(n1.rn.hasReady()).toBe(false);
  });

  it('a leader whose commit two followers reached applies only up to its own durable index', () => {
    const c = threeVoters();
    const n1 = c.node(1);
    n1.rn.propose(enc('y'));
    const rd = takeAndAccept(n1);
    const y = lastOf(rd.entries);
    for (const to of [2, 3]) for (const m of appendsTo(rd.messages, to)) c.node(to).rn.step(m);
    c.handleReady(c.node(2));
    c.handleReady(c.node(3));
    for (const m of c.queue) if (m.to === 1) n1.rn.step(m);
    c.queue = [];
    // Committed on the two followers' disks, but not durable on the leader's.
    expect(n1.rn.raft.raftLog.committed).toBe(y.index);
    const mid = takeAndAccept(n1);
    expect(mid.committedEntries).toEqual([]);
    expect(n1.rn.hasReady()).toBe(false);
    n1.rn.appendDurable(y.index, y.term);
    expect(takeAndAccept(n1).committedEntries.map((e) => dec(e.data))).toEqual(['y']);
  });

  it('a follower whose commit index is ahead of its disk applies only what is durable', () => {
    const c = threeVoters();
    const n1 = c.node(1);
    const n2 = c.node(2);
    n1.rn.propose(enc('z'));
    const rd = takeAndAccept(n1);
    const z = lastOf(rd.entries);
    // Node 2 takes the append asynchronously: the write is in progress, its ack held.
    for (const m of appendsTo(rd.messages, 2)) n2.rn.step(m);
    const f = takeAndAccept(n2);
    expect(f.entries.map((e) => dec(e.data))).toEqual(['z']);
    // Node 3 acks and the leader is durable: z commits; the commit reaches node 2.
    for (const m of appendsTo(rd.messages, 3)) c.node(3).rn.step(m);
    c.handleReady(c.node(3));
    for (const m of c.queue) if (m.to === 1) n1.rn.step(m);
    c.queue = [];
    n1.rn.appendDurable(z.index, z.term);
    expect(n1.rn.raft.raftLog.committed).toBe(z.index);
    const lead = takeAndAccept(n1);
    for (const m of lead.messages) if (m.to === 2) n2.rn.step(m);
    expect(n2.rn.raft.raftLog.committed).toBe(z.index);
    const f2 = takeAndAccept(n2);
    expect(f2.hardState?.commit).toBe(z.index);
    expect(f2.committedEntries).toEqual([]);
    expect(n2.rn.hasReady()).toBe(false);
    n2.rn.appendDurable(z.index, z.term);
    expect(takeAndAccept(n2).committedEntries.map((e) => dec(e.data))).toEqual(['z']);
  });

  it('entries replaced while being written: the late appendDurable with the old term is ignored, the replacements are handed out', () => {
    const storage = new MemoryStorage();
    const b = bootstrapState([1, 2, 3]);
    storage.append([b.entry]);
    storage.setHardState({ term: 1, vote: 0, commit: 1 });
    const rn = new RawNode({ id: 2, storage, random: new Prng(7), ...ASYNC });
    const ent = (index: number, term: number, data: string): Entry => ({ index, term, type: EntryType.Normal, data: enc(data) });
    const append = (from: number, term: number, index: number, logTerm: number, entries: Entry[]): Message =>
      message({ type: MessageType.Append, from, to: 2, term, index, logTerm, entries, commit: 1 });
    // Leader 1 (term 2) sends 2..3; the first Ready changes term: handled synchronously.
    rn.step(append(1, 2, 1, 1, [ent(2, 2, 'a'), ent(3, 2, 'b')]));
    let rd = rn.ready();
    expect(rd.barrier).toBe(true);
    storage.setHardState(rd.hardState!);
    storage.append(rd.entries);
    rn.advance();
    // 4..5 go in progress.
    rn.step(append(1, 2, 3, 2, [ent(4, 2, 'c'), ent(5, 2, 'd')]));
    rd = rn.ready();
    expect(rd.barrier).toBe(false);
    expect(rd.entries.map((e) => e.index)).toEqual([4, 5]);
    storage.append(rd.entries);
    rn.acceptReady();
    expect(rn.raft.raftLog.unstable.offsetInProgress).toBe(6);
    // Leader 3 (term 3) replaces 4 on: in-progress 4..5 are gone.
    rn.step(append(3, 3, 3, 2, [ent(4, 3, 'e')]));
    expect(rn.raft.raftLog.unstable.offsetInProgress).toBe(4);
    // The write of 4..5 (term 2) finishes late: ignored.
    rn.appendDurable(5, 2);
    expect(rn.raft.raftLog.unstable.offset).toBe(4);
    expect(rn.raft.raftLog.ackableIndex()).toBe(3);
    rd = rn.ready();
    expect(rd.barrier).toBe(true); // the term changed
    expect(rd.entries.map((e) => `${e.index}@${e.term}`)).toEqual(['4@3']);
    expect(() => rn.acceptReady()).toThrow(RaftUsageError);
    storage.setHardState(rd.hardState!);
    storage.append(rd.entries);
    rn.advance();
    expect(rn.raft.raftLog.unstable.offset).toBe(5);
    expect(rn.hasReady()).toBe(false);
  });

  it('acceptReady is refused without the mode, and without a pending Ready', () => {
    const sync = new Cluster([1]);
    sync.elect(1);
    sync.node(1).rn.propose(enc('p'));
    sync.node(1).rn.ready();
    expect(() => sync.node(1).rn.acceptReady()).toThrow(RaftUsageError);
    const c = new Cluster([1], ASYNC);
    expect(() => c.node(1).rn.acceptReady()).toThrow(RaftUsageError);
  });
});
