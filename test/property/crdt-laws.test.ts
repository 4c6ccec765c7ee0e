// The laws every CRDT type must obey, checked with random histories: merge is
// commutative, associative and idempotent; applying deltas equals merging whole states;
// replicas under hostile delivery (reorder, duplicates, drops healed by deltaSince)
// converge, to the value the type's specification gives.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ReplicaId } from '../../core/src/clock/replica-id.ts';
import type { CausalCrdt } from '../../core/src/crdt/causal-crdt.ts';
import type { Delta } from '../../core/src/crdt/delta.ts';
import type { DotStore } from '../../core/src/crdt/dot-store.ts';
import { describeCrdt } from '../../core/src/testing/describe-crdt.ts';
import { type CrdtModel, models, type Op, type OpEvent, opDot } from '../support/crdt-models.ts';

const RUNS = Number(process.env.CRDT_LAW_RUNS ?? 150);
// Replays a failing run: CRDT_LAW_SEED=<seed> CRDT_LAW_PATH=<path> (as fast-check prints them).
const REPLAY = process.env.CRDT_LAW_SEED === undefined ? {} : { seed: Number(process.env.CRDT_LAW_SEED), path: process.env.CRDT_LAW_PATH, endOnFailure: true };

type Step =
  | { t: 'op'; replica: number; op: Op }
  | { t: 'deliver'; pick: number }
  | { t: 'dup'; pick: number }
  | { t: 'drop'; pick: number }
  | { t: 'sync'; from: number; to: number }
  | { t: 'gc' };

function stepArb(model: CrdtModel, replicas: number): fc.Arbitrary<Step> {
  const r = fc.integer({ min: 0, max: replicas - 1 });
  return fc.oneof(
    { weight: 5, arbitrary: fc.record({ t: fc.constant('op' as const), replica: r, op: model.op }) },
    { weight: 4, arbitrary: fc.record({ t: fc.constant('deliver' as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('dup' as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('drop' as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('sync' as const), from: r, to: r }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('gc' as const) }) },
  );
}

interface InFlight {
  readonly to: number;
  readonly delta: Delta<DotStore>;
}

/** Runs a history; returns the replicas (after healing) and the op events. */
function run(model: CrdtModel, replicas: number, steps: readonly Step[], heal: boolean) {
  const nodes = Array.from({ length: replicas }, (_, i) => model.create((i + 1) as ReplicaId));
  const events: OpEvent[] = [];
  const net: InFlight[] = [];
  for (const s of steps) {
    switch (s.t) {
      case 'op': {
        const node = nodes[s.replica]!;
        const before = node.context.clone();
        const delta = model.apply(node, s.op);
        events.push({ replica: node.replica, op: s.op, before, delta, dot: opDot(node.replica, before) });
        for (let i = 0; i < replicas; i++) if (i !== s.replica) net.push({ to: i, delta });
        break;
      }
      case 'deliver':
      case 'dup':
      case 'drop': {
        if (net.length === 0) break;
        const i = s.pick % net.length;
        const m = net[i]!;
        if (s.t !== 'dup') net.splice(i, 1);
        if (s.t !== 'drop') nodes[m.to]!.applyDelta(m.delta);
        break;
      }
      case 'sync':
        nodes[s.to]!.applyDelta(nodes[s.from]!.deltaSince(nodes[s.to]!.context));
        break;
      case 'gc': {
        // What every replica has seen, and every delta still in flight was seen by its
        // sender: the meet of the replicas' contexts is stable.
        let stable = nodes[0]!.context.clone();
        for (const node of nodes) stable = stable.intersect(node.context);
        for (const node of nodes) node.collectGarbage(stable);
        break;
      }
    }
  }
  if (heal) {
    // Anti-entropy rounds: every pair exchanges deltaSince, twice around the ring.
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < replicas; i++) {
        for (let j = 0; j < replicas; j++) if (i !== j) nodes[j]!.applyDelta(nodes[i]!.deltaSince(nodes[j]!.context));
      }
    }
  }
  return { nodes, events };
}

function cloneOf(model: CrdtModel, crdt: CausalCrdt<DotStore>, id: number): CausalCrdt<DotStore> {
  const c = model.create(id as ReplicaId);
  c.merge(crdt);
  return c;
}

describe.each(models.map((m) => [m.name, m] as const))('%s', (_name, model) => {
  const history = fc.tuple(fc.integer({ min: 3, max: 5 }), fc.nat()).chain(([n]) => fc.tuple(fc.constant(n), fc.array(stepArb(model, n), { maxLength: 60 })));

  it('converges under reorder, duplication and drops healed by deltaSince, to the specified value', () => {
    fc.assert(
      fc.property(history, ([n, steps]) => {
        const { nodes, events } = run(model, n, steps, true);
        const first = describeCrdt(nodes[0]!);
        for (const node of nodes) expect(describeCrdt(node)).toBe(first);
        if (model.expected !== undefined) expect(model.value(nodes[0]!)).toEqual(model.expected(events));
      }),
      { numRuns: RUNS, ...REPLAY },
    );
  });

  it('merge is commutative, associative and idempotent', () => {
    fc.assert(
      fc.property(history, ([n, steps]) => {
        const { nodes } = run(model, n, steps, false);
        const [a, b, c] = nodes as [CausalCrdt<DotStore>, CausalCrdt<DotStore>, CausalCrdt<DotStore>];
        const ab = cloneOf(model, a, 90);
        ab.merge(b);
        const ba = cloneOf(model, b, 91);
        ba.merge(a);
        expect(describeCrdt(ab)).toBe(describeCrdt(ba));
        const abC = cloneOf(model, ab, 92);
        abC.merge(c);
        const bc = cloneOf(model, b, 93);
        bc.merge(c);
        const aBC = cloneOf(model, a, 94);
        aBC.merge(bc);
        expect(describeCrdt(abC)).toBe(describeCrdt(aBC));
        const aa = cloneOf(model, a, 95);
        aa.merge(a);
        expect(describeCrdt(aa)).toBe(describeCrdt(cloneOf(model, a, 96)));
        expect(model.value(aa)).toEqual(model.value(a));
      }),
      { numRuns: RUNS, ...REPLAY },
    );
  });

  it('applying every op delta (shuffled, duplicated) equals merging the whole states', () => {
    fc.assert(
      fc.property(history, fc.nat(), ([n, steps], seed) => {
        const { nodes, events } = run(model, n, steps, false);
        const viaStates = model.create(99 as ReplicaId);
        for (const node of nodes) viaStates.merge(node);
        const viaDeltas = model.create(99 as ReplicaId);
        const order = events.map((e) => e.delta).concat(events.slice(0, seed % 4).map((e) => e.delta));
        // Deterministic shuffle from the generated seed.
        let x = seed | 1;
        for (let i = order.length - 1; i > 0; i--) {
          x = (x * 1103515245 + 12345) & 0x7fffffff;
          const j = x % (i + 1);
          [order[i], order[j]] = [order[j]!, order[i]!];
        }
        for (const d of order) viaDeltas.applyDelta(d);
        expect(model.value(viaDeltas)).toEqual(model.value(viaStates));
        expect(viaDeltas.store.isEmpty()).toBe(viaStates.store.isEmpty());
        expect(viaDeltas.context.equals(viaStates.context)).toBe(true);
      }),
      { numRuns: RUNS, ...REPLAY },
    );
  });
});

