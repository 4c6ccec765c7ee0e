// RangeSet (the per-replica part of a causal context) against a plain Set oracle.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RangeSet } from '../../../core/src/clock/range-set.ts';

const ops = fc.array(fc.tuple(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 0, max: 6 })), { maxLength: 30 });

function build(list: readonly [number, number][]): [RangeSet, Set<number>] {
  const s = new RangeSet();
  const oracle = new Set<number>();
  for (const [start, len] of list) {
    if (len === 0) s.add(start);
    else s.addRange(start, start + len);
    for (let v = start; v <= start + len; v++) oracle.add(v);
  }
  return [s, oracle];
}

function members(s: RangeSet): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.ranges.length; i += 2) for (let v = s.ranges[i]!; v <= s.ranges[i + 1]!; v++) out.push(v);
  return out;
}

describe('RangeSet', () => {
  it('merges adjacent and overlapping ranges', () => {
    const s = new RangeSet();
    s.add(1);
    s.add(2);
    s.add(5);
    expect(s.ranges).toEqual([1, 2, 5, 5]);
    s.addRange(3, 4);
    expect(s.ranges).toEqual([1, 5]);
    expect(s.contiguousMax).toBe(5);
  });

  it('agrees with a Set on add, has, size, subtract and intersect, and stays canonical', () => {
    fc.assert(
      fc.property(ops, ops, (xs, ys) => {
        const [a, oa] = build(xs);
        const [b, ob] = build(ys);
        expect(members(a)).toEqual([...oa].sort((p, q) => p - q));
        expect(a.size).toBe(oa.size);
        for (let v = 0; v <= 70; v++) expect(a.has(v)).toBe(oa.has(v));
        expect(members(a.subtract(b))).toEqual([...oa].filter((v) => !ob.has(v)).sort((p, q) => p - q));
        expect(members(a.intersect(b))).toEqual([...oa].filter((v) => ob.has(v)).sort((p, q) => p - q));
        for (let i = 2; i < a.ranges.length; i += 2) expect(a.ranges[i]!).toBeGreaterThan(a.ranges[i - 1]! + 1);
        const u = a.clone();
        u.addAll(b);
        expect(members(u)).toEqual([...new Set([...oa, ...ob])].sort((p, q) => p - q));
      }),
      { numRuns: 300 },
    );
  });
});
