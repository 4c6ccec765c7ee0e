// Reconnect backoff: grows exponentially to the cap, jitter stays in [ceiling/2, ceiling),
// reset starts over.
import { describe, expect, it } from 'vitest';
import { Backoff } from '../../../browser/src/backoff.ts';
import { Prng } from '../../../core/src/testing/prng.ts';

describe('Backoff', () => {
  it('doubles up to the cap with equal jitter', () => {
    const fixed = new Backoff({ initialMs: 100, maxMs: 1_000, random: () => 0 });
    expect(Array.from({ length: 6 }, () => fixed.next())).toEqual([50, 100, 200, 400, 500, 500]);
    fixed.reset();
    expect(fixed.next()).toBe(50);
  });

  it('keeps every delay inside its jitter band', () => {
    const seed = 0x5eed;
    const prng = new Prng(seed);
    const b = new Backoff({ initialMs: 10, maxMs: 5_000, random: () => prng.next() });
    for (let i = 0; i < 40; i++) {
      const ceiling = Math.min(5_000, 10 * 2 ** i);
      const d = b.next();
      expect(d, `seed ${seed}, attempt ${i}`).toBeGreaterThanOrEqual(ceiling / 2);
      expect(d, `seed ${seed}, attempt ${i}`).toBeLessThan(ceiling);
    }
  });
});
