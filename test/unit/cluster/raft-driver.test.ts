// The Ready loop's ordering guarantees, with a write-ahead log whose fsyncs the test finishes
// by hand: a leader's appends leave before its own write is durable (so the two disk flushes
// of a commit overlap), but nothing that depends on the leader's copy — an applied entry, a
// message carrying a commit index past the leader's durable log — happens before it is
// durable; committed entries already durable are applied without waiting for the next
// write; and a vote never leaves before the term and vote that it promises are on disk.
import { afterEach, describe, expect, it } from 'vitest';
import { bootstrapMemoryStorage, MemoryStorage, RawNode } from '../../../core/src/raft/index.ts';
import { type Message, MessageType, message } from '../../../core/src/raft/types.ts';
import { Prng } from '../../../core/src/testing/prng.ts';
import type { RaftDriver } from '../../../server/src/cluster/raft-driver.ts';
import { ManualWal, manualDriver, turns } from './manual-wal.ts';

let driver: RaftDriver | undefined;
afterEach(() => driver?.stop());

describe('RaftDriver ordering', () => {
  it('a leader sends appends during its own fsync, but applies and spreads a commit only once durable', async () => {
    const storage = new MemoryStorage();
    bootstrapMemoryStorage(storage, [1, 2, 3]);
    const node = new RawNode({ id: 1, storage, random: new Prng(7), applied: 1, preVote: false, electionTimeoutTicks: 10, heartbeatTimeoutTicks: 1 });
    const wal = new ManualWal();
    const sent: { m: Message; durableLast: number; durableTerm: number; durableVote: string }[] = [];
    const applied: { index: number; durableLast: number }[] = [];
    driver = manualDriver({
      node,
      storage,
      wal,
      send: (m) => sent.push({ m, durableLast: wal.durableLast, durableTerm: wal.durableHard.term, durableVote: wal.durableHard.vote }),
      applied: (index) => applied.push({ index, durableLast: wal.durableLast }),
      onFatal: (cause) => {
        throw cause;
      },
    });

    // Campaign: the vote requests must not leave before term 2 / vote 1 is durable.
    node.campaign();
    driver.kick();
    await turns();
    expect(sent.filter((s) => s.m.type === MessageType.Vote)).toEqual([]);
    expect(wal.syncsWaiting).toBe(1);
    wal.flush();
    await turns();
    const votes = sent.filter((s) => s.m.type === MessageType.Vote);
    expect(votes.length).toBe(2);
    for (const v of votes) expect([v.durableTerm, v.durableVote]).toEqual([2, '1']);

    // Elected: the leader's no-op (index 2) goes out while its own fsync is still waiting.
    driver.step(message({ type: MessageType.VoteResponse, to: 1, from: 2, term: 2 }));
    await turns();
    const appends = sent.filter((s) => s.m.type === MessageType.Append && s.m.entries.some((e) => e.index === 2));
    expect(appends.length).toBe(2);
    for (const a of appends) expect(a.durableLast).toBe(1);
    expect(wal.syncsWaiting).toBe(1);
    expect(driver.stats.sentBeforePersist).toBeGreaterThan(0);

    // A follower acknowledges index 2 before the leader's own write is durable: Raft's
    // count reaches a quorum, but nothing may be applied or told to anyone yet.
    const before = sent.length;
    driver.step(message({ type: MessageType.AppendResponse, to: 1, from: 2, term: 2, index: 2 }));
    node.propose(new Uint8Array([42])); // index 3, appended by the next Ready
    await turns();
    expect(applied.filter((a) => a.index === 2)).toEqual([]);
    expect(sent.slice(before).filter((s) => s.m.commit >= 2)).toEqual([]);

    wal.flush();
    await turns();
    // The next Ready appends index 3 and commits index 2, durable here since the last flush:
    // 2 is applied while that Ready's own write (entry 3) is still waiting.
    expect(applied.some((a) => a.index === 2)).toBe(true);
    expect(wal.syncsWaiting).toBe(1);
    expect(driver.stats.appliedBeforePersist).toBeGreaterThan(0);
    wal.flush();
    await turns();
    for (const a of applied) expect(a.durableLast).toBeGreaterThanOrEqual(a.index);
    for (const s of sent) expect(s.m.commit).toBeLessThanOrEqual(s.durableLast);
    expect(sent.some((s) => s.m.commit >= 2)).toBe(true);
  });
});
