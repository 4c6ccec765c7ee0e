// The client's metrics: histogram quantiles against a sorted-array oracle, committed
// convergence per lsn, and the conflict count from a real register race between replicas.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { replicaId } from '../../../core/src/clock/replica-id.ts';
import { Replica } from '../../../core/src/doc/replica.ts';
import { LatencyHistogram, MetricsRecorder } from '../../../browser/src/metrics.ts';

function oracle(samples: number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
}

describe('LatencyHistogram', () => {
  it('quantiles are within one bucket (about 9%) of the exact ones', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0.02, max: 60_000, noNaN: true }), { minLength: 1, maxLength: 300 }), (samples) => {
        const h = new LatencyHistogram();
        for (const s of samples) h.record(s);
        for (const q of [0.5, 0.95, 0.99]) {
          const exact = oracle(samples, q);
          const got = h.quantile(q);
          expect(got).toBeGreaterThanOrEqual(exact * 0.999);
          expect(got).toBeLessThanOrEqual(exact * 1.1);
        }
        expect(h.count).toBe(samples.length);
      }),
      { seed: 7101, numRuns: 200 },
    );
  });

  it('reports zeros when empty and clamps to the largest sample', () => {
    const h = new LatencyHistogram();
    expect(h.summary()).toEqual({ count: 0, p50: 0, p95: 0, p99: 0, max: 0 });
    h.record(3);
    expect(h.summary()).toEqual({ count: 1, p50: 3, p95: 3, p99: 3, max: 3 });
    h.record(Number.NaN);
    expect(h.count).toBe(1);
  });
});

describe('MetricsRecorder', () => {
  it('times operations per level, errors included', async () => {
    let t = 0;
    const m = new MetricsRecorder(() => t, () => 0);
    await m.time('causal', async () => {
      t += 2;
    });
    await expect(
      m.time('strong', async () => {
        t += 40;
        throw new Error('no origin');
      }),
    ).rejects.toThrow('no origin');
    const s = m.snapshot(0);
    expect(s.latencyMs.causal.count).toBe(1);
    expect(s.latencyMs.causal.p99).toBe(2);
    expect(s.latencyMs.strong.p50).toBe(40);
    expect(s.latencyMs.eventual.count).toBe(0);
  });

  it('measures local change to committed, per lsn, once', () => {
    let t = 100;
    const m = new MetricsRecorder(() => t, () => 0);
    m.localChange(1);
    t = 110;
    m.localChange(2);
    t = 130;
    m.committedThrough(1);
    expect(m.snapshot(1).convergence.committedMs).toMatchObject({ count: 1, max: 30 });
    t = 150;
    m.committedThrough(2);
    m.committedThrough(2);
    expect(m.snapshot(0).convergence.committedMs).toMatchObject({ count: 2, max: 40 });
    expect(m.snapshot(0).unacknowledged).toBe(0);
  });

  it('counts a register race as a conflict and reads the writer stamp for remote visibility', () => {
    let wall = 1_000_000;
    const a = new Replica({ replicaId: replicaId(1), now: () => wall });
    const b = new Replica({ replicaId: replicaId(2), now: () => wall });
    const m = new MetricsRecorder(() => 0, () => wall + 25);
    // Sequential: b saw a's write before writing, so no conflict.
    const d1 = a.put('k', 'a1');
    m.remoteApplied(b.applyDelta(d1).map((e) => e.key), (k) => b.isConcurrent(k), d1.store, b.id);
    const d2 = b.put('k', 'b1');
    m.remoteApplied(a.applyDelta(d2).map((e) => e.key), (k) => a.isConcurrent(k), d2.store, a.id);
    expect(m.snapshot(0).conflicts).toEqual({ concurrent: 0, remoteWrites: 2, rate: 0 });
    // Concurrent: both write without seeing the other.
    wall += 10;
    const x = a.put('k', 'a2');
    const y = b.put('k', 'b2');
    m.remoteApplied(a.applyDelta(y).map((e) => e.key), (k) => a.isConcurrent(k), y.store, a.id);
    b.applyDelta(x);
    expect(a.get('k')).toBe(b.get('k'));
    const s = m.snapshot(0);
    expect(s.conflicts.concurrent).toBe(1);
    expect(s.conflicts.remoteWrites).toBe(3);
    expect(s.conflicts.rate).toBeCloseTo(1 / 3);
    expect(s.convergence.remoteVisibleMs.count).toBe(3);
    expect(s.convergence.remoteVisibleMs.max).toBe(25);
  });

  it('sees concurrency inside a map field', () => {
    const a = new Replica({ replicaId: replicaId(1), now: () => 5 });
    const b = new Replica({ replicaId: replicaId(2), now: () => 5 });
    a.map('m').set('f', 1);
    const y = b.map('m').set('f', 2);
    a.applyDelta(y);
    expect(a.isConcurrent('m')).toBe(true);
    expect(a.isConcurrent('missing')).toBe(false);
  });
});
