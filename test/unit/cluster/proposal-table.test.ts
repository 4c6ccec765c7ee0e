// The proposal table answers each write once: by its result, by a failure, or by a timeout
// at the sweep after its deadline (never earlier); a late answer to a timed-out write is
// dropped.
import { describe, expect, it } from 'vitest';
import { ProposalTable } from '../../../server/src/cluster/proposal-table.ts';
import { NodeTimeoutError } from '../../../server/src/node/errors.ts';

describe('proposal table', () => {
  it('resolves by sequence number and forgets the entry', async () => {
    const t = new ProposalTable();
    const a = t.add(5_000);
    const b = t.add(5_000);
    expect(b.seq).toBe(a.seq + 1);
    t.resolve(b.seq, { status: 'ok', version: 9 });
    t.resolve(a.seq, { status: 'ok', version: 8 });
    await expect(a.done).resolves.toEqual({ status: 'ok', version: 8 });
    await expect(b.done).resolves.toEqual({ status: 'ok', version: 9 });
    expect(t.size).toBe(0);
  });

  it('keeps the command decoded at proposal only while the write is pending', async () => {
    const t = new ProposalTable();
    const command = { type: 'put', ks: 'app', key: 'k', value: 1 } as const;
    const a = t.add(5_000, command);
    const b = t.add(5_000);
    expect(t.commandOf(a.seq)).toBe(command);
    expect(t.commandOf(b.seq)).toBeUndefined();
    t.resolve(a.seq, { status: 'ok', version: 1 });
    await a.done;
    expect(t.commandOf(a.seq)).toBeUndefined();
    t.reject(b.seq, new Error('gone'));
    await expect(b.done).rejects.toThrow('gone');
  });

  it('times a write out after its deadline, not before, and drops its late answer', async () => {
    const t = new ProposalTable();
    const t0 = performance.now();
    const slow = t.add(60);
    const kept = t.add(5_000);
    await expect(slow.done).rejects.toBeInstanceOf(NodeTimeoutError);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(59);
    t.resolve(slow.seq, { status: 'ok', version: 1 }); // late: ignored
    expect(t.size).toBe(1);
    t.rejectAll(new Error('stopped'));
    await expect(kept.done).rejects.toThrow('stopped');
    expect(t.size).toBe(0);
  });
});

describe('proposal table expiry order', () => {
  it('times writes with different timeouts out in deadline order, none before its deadline', async () => {
    const t = new ProposalTable();
    // Interleaved timeouts (ms), so neither insertion order nor one FIFO gives deadline order.
    const timeouts = [120, 40, 80, 40, 160, 80, 120, 40];
    const added = timeouts.map((ms) => ({ ms, at: performance.now(), w: t.add(ms) }));
    const answered = t.add(40); // answered before its deadline: never times out
    t.resolve(answered.seq, { status: 'ok', version: 1 });
    const kept = t.add(60_000);
    const failedAt = new Map<number, number>();
    const order: number[] = [];
    await Promise.all(
      added.map(({ w }) =>
        w.done.then(
          () => expect.unreachable('a write without an answer resolved'),
          (e: unknown) => {
            expect(e).toBeInstanceOf(NodeTimeoutError);
            failedAt.set(w.seq, performance.now());
            order.push(w.seq);
          },
        ),
      ),
    );
    await expect(answered.done).resolves.toEqual({ status: 'ok', version: 1 });
    for (const { ms, at, w } of added) expect(failedAt.get(w.seq)! - at).toBeGreaterThanOrEqual(ms);
    // Deadline order: when added plus its timeout, ties by when added (each FIFO's order).
    const byDeadline = added.map((a, i) => ({ ...a, i })).sort((x, y) => x.at + x.ms - (y.at + y.ms) || x.i - y.i);
    expect(order).toEqual(byDeadline.map((a) => a.w.seq));
    expect(t.size).toBe(1); // only `kept`
    t.rejectAll(new Error('stopped'));
    await expect(kept.done).rejects.toThrow('stopped');
  });
});

describe('proposal table stages', () => {
  it('reports the wait before proposal and the time from proposal to answer', async () => {
    const seen: [number, number][] = [];
    const t = new ProposalTable((q, c) => seen.push([q, c]));
    const a = t.add(5_000);
    const unproposed = t.add(5_000);
    await new Promise((r) => setTimeout(r, 20));
    t.proposed([a.seq]);
    await new Promise((r) => setTimeout(r, 30));
    t.resolve(a.seq, { status: 'ok', version: 1 });
    t.resolve(unproposed.seq, { status: 'ok', version: 2 }); // never proposed here: no stages
    await Promise.all([a.done, unproposed.done]);
    expect(seen).toHaveLength(1);
    expect(seen[0]![0]).toBeGreaterThanOrEqual(19);
    expect(seen[0]![1]).toBeGreaterThanOrEqual(29);
  });
});
