// Several Raft groups share one process without interfering (no module state), and the
// seeded PRNG replays exactly.
import { describe, expect, it } from 'vitest';
import { Prng } from '../../../core/src/testing/prng.ts';
import { Cluster, enc } from './harness.ts';

describe('several groups in one process', () => {
  it('interleaved groups of different sizes elect and replicate independently', () => {
    const a = new Cluster([1, 2, 3], {}, 1);
    const b = new Cluster([1, 2, 3, 4, 5], {}, 2);
    a.elect(2);
    b.elect(4);
    for (let k = 0; k < 20; k++) {
      a.node(2).rn.propose(enc(`a${k}`));
      b.node(4).rn.propose(enc(`b${k}`));
      if (k % 2 === 0) a.stabilize();
      else b.stabilize();
    }
    a.stabilize();
    b.stabilize();
    expect(a.leaders()).toEqual([2]);
    expect(b.leaders()).toEqual([4]);
    expect(a.appliedData(1)).toEqual(Array.from({ length: 20 }, (_, k) => `a${k}`));
    expect(b.appliedData(5)).toEqual(Array.from({ length: 20 }, (_, k) => `b${k}`));
  });
});

describe('Prng', () => {
  it('replays the same stream for the same seed and differs across seeds', () => {
    const x = new Prng(123);
    const y = new Prng(123);
    const z = new Prng(124);
    const xs = Array.from({ length: 10 }, () => x.nextU32());
    expect(Array.from({ length: 10 }, () => y.nextU32())).toEqual(xs);
    expect(Array.from({ length: 10 }, () => z.nextU32())).not.toEqual(xs);
  });

  it('int(n) stays in range and covers it', () => {
    const p = new Prng(9);
    const seen = new Set<number>();
    for (let k = 0; k < 1000; k++) {
      const v = p.int(7);
      expect(v >= 0 && v < 7).toBe(true);
      seen.add(v);
    }
    expect(seen.size).toBe(7);
  });
});
