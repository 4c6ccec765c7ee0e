import { describe, expect, it } from 'vitest';
import { Cluster, enc } from './harness.ts';

describe('raft smoke', () => {
  it('elects a leader and replicates a proposal to every node', () => {
    const c = new Cluster([1, 2, 3]);
    c.elect(1);
    expect(c.leaders()).toEqual([1]);
    c.node(1).rn.propose(enc('a'));
    c.stabilize();
    for (const id of [1, 2, 3]) expect(c.appliedData(id)).toEqual(['a']);
  });
});
