import { describe, expect, it } from 'vitest';
import { RangeSet } from '../../../core/src/clock/range-set.ts';

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
});
