// Quorum math checked against a naive oracle with random inputs.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VoteResult, majorityCommittedIndex, majorityVoteResult } from '../../../core/src/raft/quorum/index.ts';

function naiveCommitted(acked: number[]): number {
  // The largest value v such that a majority acked at least v.
  const q = Math.floor(acked.length / 2) + 1;
  let best = 0;
  for (const v of acked) if (acked.filter((a) => a >= v).length >= q && v > best) best = v;
  return best;
}

describe('quorum', () => {
  it('majority committed index equals the naive count', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 20 }), { minLength: 1, maxLength: 9 }), (acked) => {
        const voters = acked.map((_, k) => k + 1);
        const got = majorityCommittedIndex(voters, { ackedIndex: (id) => acked[id - 1] });
        expect(got).toBe(naiveCommitted(acked));
      }),
      { seed: 11, numRuns: 2000 },
    );
  });

  it('majority vote result equals the naive count', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom<boolean | undefined>(true, false, undefined), { minLength: 1, maxLength: 9 }), (votes) => {
        const voters = votes.map((_, k) => k + 1);
        const m = new Map<number, boolean>();
        votes.forEach((v, k) => v !== undefined && m.set(k + 1, v));
        const q = Math.floor(votes.length / 2) + 1;
        const yes = votes.filter((v) => v === true).length;
        const missing = votes.filter((v) => v === undefined).length;
        const expected = yes >= q ? VoteResult.Won : yes + missing >= q ? VoteResult.Pending : VoteResult.Lost;
        expect(majorityVoteResult(voters, m)).toBe(expected);
      }),
      { seed: 12, numRuns: 2000 },
    );
  });

  it('an empty voter set commits everything and wins every vote', () => {
    expect(majorityCommittedIndex([], { ackedIndex: () => 0 })).toBe(Infinity);
    expect(majorityVoteResult([], new Map())).toBe(VoteResult.Won);
  });
});
