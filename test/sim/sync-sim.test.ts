// Deterministic simulation of the sync protocol (see sync/driver.ts): for many seeds,
// every replica converges and no acknowledged change is lost. Set SYNC_SIM_SEED to replay
// one seed.
import { describe, expect, it } from 'vitest';
import { runSyncSim } from './sync/driver.ts';

const base = Number(process.env.SYNC_SIM_SEED ?? 20261125);
const runs = process.env.SYNC_SIM_SEED === undefined ? 40 : 1;

describe('sync simulation', () => {
  it(`${runs} seeded runs of 1 server + 3-5 clients converge and keep every acknowledged change`, () => {
    let snapshots = 0;
    let drops = 0;
    let restarts = 0;
    for (let k = 0; k < runs; k++) {
      const seed = base + k;
      const result = runSyncSim(seed);
      if (result.violations.length > 0) {
        throw new Error(`sync simulation failed with seed ${seed} (replay: SYNC_SIM_SEED=${seed}):\n${result.violations.slice(0, 5).join('\n')}`);
      }
      snapshots += result.stats.snapshots;
      drops += result.stats.drops;
      restarts += result.stats.restarts;
      expect(result.stats.ops).toBeGreaterThan(100);
    }
    // The faults the simulation exists for did happen.
    expect(drops).toBeGreaterThan(runs);
    expect(restarts).toBeGreaterThan(runs);
    if (runs > 1) expect(snapshots).toBeGreaterThan(0);
  });
});
