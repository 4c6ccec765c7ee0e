// Regression (found by the law tests, seed 1523983959): a counter's removal base must
// survive garbage collection, or a contribution made concurrently with the removal and
// delivered later is counted in full.
import { expect, it } from 'vitest';
import type { ReplicaId } from '../../../core/src/clock/replica-id.ts';
import { ORMap } from '../../../core/src/crdt/or-map.ts';

it('a concurrent increment that arrives after the removal was collected counts only itself', () => {
  const a = new ORMap(1 as ReplicaId);
  const c = new ORMap(3 as ReplicaId);
  c.applyDelta(a.increment(['views'], 10));
  c.remove(['views']); // observes a's 10
  const stable = a.context.intersect(c.context); // both have a's first increment
  c.collectGarbage(stable);
  a.collectGarbage(stable);
  c.applyDelta(a.increment(['views'], 1)); // concurrent with the removal: builds on 10
  expect(c.counterValue(['views'])).toBe(1);
  a.applyDelta(c.deltaSince(a.context));
  expect(a.counterValue(['views'])).toBe(1);
});
