// The Ready loop with asynchronous storage writes, over a write-ahead log whose fsyncs the
// test finishes by hand: Readys are taken while earlier writes are in flight, a leader's
// appends leave at once but nothing depends on its copy before it is durable, a follower's
// acks leave only after their write and in order, a vote waits for every write in flight,
// a failed sync stops the node, and stop() with writes in flight sends nothing more.
import { afterEach, describe, expect, it } from 'vitest';
import { bootstrapMemoryStorage, MemoryStorage, RawNode } from '../../../core/src/raft/index.ts';
import { type Entry, type Message, EntryType, MessageType, message } from '../../../core/src/raft/types.ts';
import { Prng } from '../../../core/src/testing/prng.ts';
import { CAMPAIGN_TRANSFER } from '../../../core/src/raft/config.ts';
import type { RaftDriver } from '../../../server/src/cluster/raft-driver.ts';
import { ManualWal, manualDriver, turns } from './manual-wal.ts';

interface Sent {
  m: Message;
  durableLast: number;
}

function setup(id: number, voters: number[]) {
  const storage = new MemoryStorage();
  bootstrapMemoryStorage(storage, voters);
  const node = new RawNode({ id, storage, random: new Prng(7), applied: 1, preVote: false, electionTimeoutTicks: 10, heartbeatTimeoutTicks: 1, asyncStorageWrites: true });
  const wal = new ManualWal();
  const sent: Sent[] = [];
  const applied: { index: number; durableLast: number }[] = [];
  const fatal: unknown[] = [];
  const d = manualDriver({
    node,
    storage,
    wal,
    send: (m) => sent.push({ m, durableLast: wal.durableLast }),
    applied: (index) => applied.push({ index, durableLast: wal.durableLast }),
    onFatal: (cause) => fatal.push(cause),
  });
  driver = d;
  return { node, wal, sent, applied, fatal, driver: d };
}

/** Node 1 of 3 elected (its campaign is a barrier Ready: persisted before the votes leave). */
async function leader() {
  const s = setup(1, [1, 2, 3]);
  s.node.campaign();
  s.driver.kick();
  await turns();
  expect(s.sent.filter((x) => x.m.type === MessageType.Vote)).toEqual([]);
  s.wal.flush();
  await turns();
  expect(s.sent.filter((x) => x.m.type === MessageType.Vote).length).toBe(2);
  s.driver.step(message({ type: MessageType.VoteResponse, to: 1, from: 2, term: 2 }));
  await turns();
  return s;
}

let driver: RaftDriver | undefined;
afterEach(() => driver?.stop());

describe('RaftDriver with asynchronous storage writes', () => {
  it('a leader takes Readys during its fsync, sends at once, and applies a commit only once durable here', async () => {
    const s = await leader();
    // The no-op (index 2) is out while its write waits.
    const noop = s.sent.filter((x) => x.m.type === MessageType.Append && x.m.entries.some((e) => e.index === 2));
    expect(noop.length).toBe(2);
    expect(s.wal.syncsWaiting).toBe(1);
    // Both followers ack it: two followers are a quorum, so 2 commits, but it is not applied
    // before the leader's own disk has it.
    for (const from of [2, 3]) s.driver.step(message({ type: MessageType.AppendResponse, to: 1, from, term: 2, index: 2 }));
    await turns();
    expect(s.node.raft.raftLog.committed).toBe(2);
    expect(s.applied).toEqual([]);
    // A proposal while that fsync runs: its Ready is taken and its appends leave at once.
    s.node.propose(new Uint8Array([42]));
    s.driver.kick();
    await turns();
    expect(s.sent.filter((x) => x.m.type === MessageType.Append && x.m.entries.some((e) => e.index === 3)).length).toBe(2);
    expect(s.wal.syncsWaiting).toBe(2);
    expect(s.driver.stats.maxInFlight).toBe(2);
    expect(s.applied).toEqual([]);
    s.wal.flush();
    await turns();
    expect(s.applied.map((a) => a.index)).toEqual([2]);
    // Durable here and acked by one follower: 3 commits and is applied.
    const before = s.sent.length;
    s.driver.step(message({ type: MessageType.AppendResponse, to: 1, from: 2, term: 2, index: 3 }));
    await turns();
    expect(s.applied.map((a) => a.index)).toEqual([2, 3]);
    for (const a of s.applied) expect(a.durableLast).toBeGreaterThanOrEqual(a.index);
    expect(s.sent.slice(before).some((x) => x.m.commit === 3)).toBe(true);
  });

  it('one follower ack and an unpersisted leader write commit nothing; the leader\'s fsync then commits', async () => {
    const s = await leader();
    s.driver.step(message({ type: MessageType.AppendResponse, to: 1, from: 2, term: 2, index: 2 }));
    await turns();
    expect(s.node.raft.raftLog.committed).toBe(1);
    expect(s.sent.filter((x) => x.m.commit >= 2)).toEqual([]);
    s.wal.flush();
    await turns();
    expect(s.node.raft.raftLog.committed).toBe(2);
    expect(s.applied.map((a) => a.index)).toEqual([2]);
    for (const x of s.sent) expect(x.m.commit).toBeLessThanOrEqual(x.durableLast);
  });

  it('a follower holds its acks until their write is durable, and releases them in order', async () => {
    const s = setup(2, [1, 2, 3]);
    const ent = (index: number): Entry => ({ index, term: 2, type: EntryType.Normal, data: new Uint8Array([index]) });
    const append = (index: number, entries: Entry[]): Message =>
      message({ type: MessageType.Append, from: 1, to: 2, term: 2, index, logTerm: index === 1 ? 1 : 2, entries, commit: 1 });
    // Term 2 first: a barrier Ready, persisted before its ack leaves.
    s.driver.step(append(1, [ent(2)]));
    await turns();
    expect(s.sent).toEqual([]);
    s.wal.flush();
    await turns();
    expect(s.sent.map((x) => [x.m.type, x.m.index])).toEqual([[MessageType.AppendResponse, 2]]);
    // Two plain Readys in flight: two syncs, nothing sent.
    s.driver.step(append(2, [ent(3)]));
    await turns();
    s.driver.step(append(3, [ent(4)]));
    await turns();
    expect(s.wal.syncsWaiting).toBe(2);
    expect(s.sent.length).toBe(1);
    // The later sync finishes first: nothing may leave before the earlier one's ack.
    s.wal.flushLast();
    await turns();
    expect(s.sent.length).toBe(1);
    s.wal.flush();
    await turns();
    const acks = s.sent.slice(1).map((x) => x.m.index);
    expect(acks).toEqual([3, 4]);
    for (const x of s.sent) if (x.m.type === MessageType.AppendResponse) expect(x.durableLast).toBeGreaterThanOrEqual(x.m.index);
  });

  it('a vote waits for every write in flight', async () => {
    const s = setup(2, [1, 2, 3]);
    const ent = (index: number): Entry => ({ index, term: 2, type: EntryType.Normal, data: new Uint8Array([index]) });
    s.driver.step(message({ type: MessageType.Append, from: 1, to: 2, term: 2, index: 1, logTerm: 1, entries: [ent(2)], commit: 1 }));
    await turns();
    s.wal.flush();
    await turns();
    s.driver.step(message({ type: MessageType.Append, from: 1, to: 2, term: 2, index: 2, logTerm: 2, entries: [ent(3)], commit: 1 }));
    await turns();
    expect(s.wal.syncsWaiting).toBe(1);
    // A candidate of term 3 asks for our vote while entry 3's write is in flight.
    s.driver.step(message({ type: MessageType.Vote, from: 3, to: 2, term: 3, index: 3, logTerm: 2, context: CAMPAIGN_TRANSFER }));
    await turns();
    expect(s.sent.filter((x) => x.m.type === MessageType.VoteResponse)).toEqual([]);
    s.wal.flush(); // entry 3 durable: the vote's own Ready is persisted next
    await turns();
    expect(s.sent.filter((x) => x.m.type === MessageType.VoteResponse)).toEqual([]);
    s.wal.flush();
    await turns();
    const votes = s.sent.filter((x) => x.m.type === MessageType.VoteResponse);
    expect(votes.length).toBe(1);
    expect(votes[0]!.m.reject).toBe(false);
    expect(s.wal.durableHard).toEqual({ term: 3, vote: '3', commit: 1 });
  });

  it('a failed sync stops the node through onFatal; stop() with writes in flight sends nothing more', async () => {
    const s = await leader();
    s.wal.fail(new Error('EIO'));
    await turns();
    expect(s.fatal.length).toBe(1);
    expect(String(s.fatal[0])).toMatch(/EIO/);

    const t = await leader();
    t.driver.step(message({ type: MessageType.AppendResponse, to: 1, from: 2, term: 2, index: 2 }));
    await turns();
    const before = t.sent.length;
    t.driver.stop();
    t.wal.flush();
    await turns();
    expect(t.sent.length).toBe(before);
    expect(t.applied).toEqual([]);
    expect(t.fatal).toEqual([]);
  });
});
