import { describe, expect, it } from 'vitest';
import { CausalContext } from '../../../core/src/clock/causal-context.ts';
import { compareTimestamps, HybridLogicalClock } from '../../../core/src/clock/hlc.ts';
import { replicaId, replicaIdFromBytes, type ReplicaId } from '../../../core/src/clock/replica-id.ts';
import { VectorOrder, VersionVector } from '../../../core/src/clock/version-vector.ts';
import { InvalidArgumentError } from '../../../core/src/errors.ts';

const A = 1 as ReplicaId;
const B = 2 as ReplicaId;

describe('CausalContext', () => {
  it('keeps out-of-order dots as a cloud and compacts them into the version vector', () => {
    const ctx = new CausalContext();
    ctx.add(A, 1);
    ctx.add(A, 3);
    expect(ctx.versionVector().get(A)).toBe(1);
    expect(ctx.has(A, 2)).toBe(false);
    ctx.add(A, 2);
    expect(ctx.versionVector().get(A)).toBe(3);
    expect(ctx.entries.get(A)!.ranges).toEqual([1, 3]);
  });

  it('subtracts, intersects and merges', () => {
    const a = new CausalContext();
    a.addRange(A, 1, 10);
    a.add(B, 1);
    const b = new CausalContext();
    b.addRange(A, 1, 4);
    const diff = a.subtract(b);
    expect(diff.entries.get(A)!.ranges).toEqual([5, 10]);
    expect(diff.has(B, 1)).toBe(true);
    expect(a.intersect(b).size).toBe(4);
    b.merge(a);
    expect(b.equals(a)).toBe(true);
    expect(a.includes(diff)).toBe(true);
  });
});

describe('VersionVector', () => {
  it('orders vectors and computes their meet', () => {
    const x = new VersionVector(new Map([[A, 2]]));
    const y = new VersionVector(new Map([[A, 1], [B, 1]]));
    expect(x.compare(y)).toBe(VectorOrder.Concurrent);
    const z = x.clone();
    z.merge(y);
    expect(x.compare(z)).toBe(VectorOrder.Before);
    expect(z.compare(x)).toBe(VectorOrder.After);
    expect(z.compare(z.clone())).toBe(VectorOrder.Equal);
    expect([...VersionVector.meet([x, y]).entries]).toEqual([[A, 1]]);
  });
});

describe('HybridLogicalClock', () => {
  it('never goes backwards and stays ahead of what it observed', () => {
    const c = new HybridLogicalClock();
    const t1 = c.now(100);
    const t2 = c.now(50); // physical clock stepped back
    expect(compareTimestamps(t2, t1)).toBeGreaterThan(0);
    c.observe({ wallMs: 1_000, logical: 7 }, 60);
    const t3 = c.now(70);
    expect(compareTimestamps(t3, { wallMs: 1_000, logical: 7 })).toBeGreaterThan(0);
    expect(c.now(2_000)).toEqual({ wallMs: 2_000, logical: 0 });
  });
});

describe('replica ids', () => {
  it('are positive 53-bit integers', () => {
    expect(replicaIdFromBytes(new Uint8Array([255, 255, 255, 255, 255, 255, 255]))).toBe(Number.MAX_SAFE_INTEGER);
    expect(replicaIdFromBytes(new Uint8Array(7))).toBe(1);
    expect(() => replicaId(0)).toThrow(InvalidArgumentError);
    expect(() => replicaId(2 ** 53)).toThrow(InvalidArgumentError);
  });
});
