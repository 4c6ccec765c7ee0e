// Runs the deterministic simulator over a few hundred seeds inside `npm test`, replays the
// regression seeds, checks determinism, and checks that the simulator catches a broken Raft.
import { describe, expect, it } from 'vitest';
import { RaftLog } from '../../core/src/raft/log.ts';
import { formatFailure, runSimulation } from './simulator.ts';

/** Seeds that once failed (bugs found by the simulator, in the simulator or in Raft). */
const REGRESSION_SEEDS = [1, 3, 7, 9, 75];
const BLOCKS = 8;
const SEEDS_PER_BLOCK = 50;
const FAULT_TICKS = 800;

function runSeeds(seeds: number[]): void {
  const failures: string[] = [];
  for (const seed of seeds) {
    const r = runSimulation({ seed, faultTicks: FAULT_TICKS });
    if (r.violations.length > 0) failures.push(formatFailure(r));
    else expect(r.linearizabilityChecked).toBe(true);
  }
  expect(failures, failures.join('\n\n')).toEqual([]);
}

describe('raft simulation', () => {
  it('regression seeds stay clean', () => runSeeds(REGRESSION_SEEDS));

  for (let b = 0; b < BLOCKS; b++) {
    const start = 10_000 + b * SEEDS_PER_BLOCK;
    it(`seeds ${start}..${start + SEEDS_PER_BLOCK - 1}: safety, liveness after heal, linearizability`, () => {
      runSeeds(Array.from({ length: SEEDS_PER_BLOCK }, (_, k) => start + k));
    });
  }

  it('is deterministic: the same seed gives the same run', () => {
    const a = runSimulation({ seed: 4242, faultTicks: 400 });
    const b = runSimulation({ seed: 4242, faultTicks: 400 });
    expect(b.trace).toEqual(a.trace);
    expect(b.ops).toBe(a.ops);
    expect(b.messages).toBe(a.messages);
  });

  it('catches a broken Raft (election restriction removed) and prints the seed', () => {
    const original = RaftLog.prototype.isUpToDate;
    RaftLog.prototype.isUpToDate = () => true;
    try {
      const failed: string[] = [];
      for (let seed = 1; seed <= 40 && failed.length === 0; seed++) {
        const r = runSimulation({ seed, faultTicks: 800 });
        if (r.violations.length > 0) failed.push(formatFailure(r));
      }
      expect(failed.length).toBe(1);
      expect(failed[0]).toMatch(/^seed \d+ FAILED/);
    } finally {
      RaftLog.prototype.isUpToDate = original;
    }
  });
});
