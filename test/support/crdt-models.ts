// Models of each standalone CRDT for the generic property tests: how to make one, a
// generator of random ops, how to apply an op, and (where the type has a simple spec) the
// value every replica must reach, computed from the recorded op events alone.
import fc from 'fast-check';
import type { CausalContext } from '../../core/src/clock/causal-context.ts';
import type { Dot } from '../../core/src/clock/dot.ts';
import { compareTimestamps, type HlcTimestamp } from '../../core/src/clock/hlc.ts';
import type { ReplicaId } from '../../core/src/clock/replica-id.ts';
import { canonicalJson, type JsonValue } from '../../core/src/codec/json-value.ts';
import type { CausalCrdt } from '../../core/src/crdt/causal-crdt.ts';
import type { Delta } from '../../core/src/crdt/delta.ts';
import { CrdtType, type DotStore } from '../../core/src/crdt/dot-store.ts';
import { GCounter } from '../../core/src/crdt/g-counter.ts';
import { GSet } from '../../core/src/crdt/g-set.ts';
import { LWWRegister } from '../../core/src/crdt/lww-register.ts';
import { MVRegister } from '../../core/src/crdt/mv-register.ts';
import { ORMap } from '../../core/src/crdt/or-map.ts';
import { ORSet } from '../../core/src/crdt/or-set.ts';
import { PNCounter } from '../../core/src/crdt/pn-counter.ts';
import type { RegisterStore } from '../../core/src/crdt/register-store.ts';

export type Op = { readonly kind: string; readonly a?: JsonValue; readonly path?: readonly string[]; readonly n?: number };

/** One op as it happened: who, with which dot, having seen what, and its delta. */
export interface OpEvent {
  readonly replica: ReplicaId;
  readonly op: Op;
  readonly before: CausalContext;
  readonly delta: Delta<DotStore>;
  readonly dot: Dot;
}

export interface CrdtModel {
  readonly name: string;
  create(id: ReplicaId): CausalCrdt<DotStore>;
  readonly op: fc.Arbitrary<Op>;
  apply(crdt: CausalCrdt<DotStore>, op: Op): Delta<DotStore>;
  value(crdt: CausalCrdt<DotStore>): unknown;
  /** The value all replicas must reach once every event is delivered, if the type has a simple spec. */
  expected?(events: readonly OpEvent[]): unknown;
}

const element = fc.constantFrom<JsonValue>('a', 'b', 'c', 1, null, { k: 1 });
const sortJson = (xs: JsonValue[]): string[] => xs.map(canonicalJson).sort();

/** Dot of the op itself: the one dot in the delta's context from its replica above `before`. */
export function opDot(replica: ReplicaId, before: CausalContext): Dot {
  return { replica, counter: before.max(replica) + 1 };
}

export const models: CrdtModel[] = [
  {
    name: 'GCounter',
    create: (id) => new GCounter(id),
    op: fc.integer({ min: 0, max: 5 }).map((n) => ({ kind: 'inc', n })),
    apply: (c, op) => (c as GCounter).increment(op.n),
    value: (c) => (c as GCounter).value,
    expected: (events) => events.reduce((s, e) => s + e.op.n!, 0),
  },
  {
    name: 'PNCounter',
    create: (id) => new PNCounter(id),
    op: fc.integer({ min: -5, max: 5 }).map((n) => ({ kind: 'inc', n })),
    apply: (c, op) => (c as PNCounter).increment(op.n),
    value: (c) => (c as PNCounter).value,
    expected: (events) => events.reduce((s, e) => s + e.op.n!, 0),
  },
  {
    name: 'GSet',
    create: (id) => new GSet(id),
    op: element.map((a) => ({ kind: 'add', a })),
    apply: (c, op) => (c as GSet).add(op.a!),
    value: (c) => sortJson((c as GSet).values()),
    expected: (events) => [...new Set(events.map((e) => canonicalJson(e.op.a!)))].sort(),
  },
  {
    name: 'ORSet',
    create: (id) => new ORSet(id),
    op: fc.tuple(fc.constantFrom('add', 'add', 'remove'), element).map(([kind, a]) => ({ kind, a })),
    apply: (c, op) => (op.kind === 'add' ? (c as ORSet).add(op.a!) : (c as ORSet).remove(op.a!)),
    value: (c) => sortJson((c as ORSet).values()),
    // Add-wins: x is in the set iff some add(x) was not seen by any remove(x).
    expected: (events) => {
      const out = new Set<string>();
      for (const add of events) {
        if (add.op.kind !== 'add') continue;
        const key = canonicalJson(add.op.a!);
        const removed = events.some((r) => r.op.kind === 'remove' && canonicalJson(r.op.a!) === key && r.before.hasDot(add.dot));
        if (!removed) out.add(key);
      }
      return [...out].sort();
    },
  },
  {
    name: 'LWWRegister',
    create: (id) => new LWWRegister(id),
    op: fc.tuple(element, fc.integer({ min: 0, max: 3 })).map(([a, n]) => ({ kind: 'set', a, n })),
    apply: (c, op) => (c as LWWRegister).set(op.a!, op.n),
    value: (c) => (c as LWWRegister).value,
    expected: (events) => {
      let best: { stamp: HlcTimestamp; replica: number; value: JsonValue } | undefined;
      for (const e of events) {
        const v = (e.delta.store as RegisterStore).values[0]!;
        const c = best === undefined ? 1 : compareTimestamps(v.stamp, best.stamp) || v.dot.replica - best.replica;
        if (c > 0) best = { stamp: v.stamp, replica: v.dot.replica, value: v.value };
      }
      return best?.value;
    },
  },
  {
    name: 'MVRegister',
    create: (id) => new MVRegister(id),
    op: element.map((a) => ({ kind: 'set', a })),
    apply: (c, op) => (c as MVRegister).set(op.a!),
    value: (c) => sortJson((c as MVRegister).values()),
    // Every write that no other write has seen.
    expected: (events) => sortJson(events.filter((w) => !events.some((o) => o !== w && o.before.hasDot(w.dot))).map((w) => w.op.a!)),
  },
  {
    name: 'ORMap',
    create: (id) => new ORMap(id),
    op: fc.oneof(
      fc.tuple(fc.constantFrom('x', 'y'), element).map(([f, a]) => ({ kind: 'reg', path: [f], a })),
      fc.tuple(fc.constantFrom('n', 'm'), fc.integer({ min: -3, max: 3 })).map(([f, n]) => ({ kind: 'ctr', path: ['c', f], n })),
      fc.tuple(fc.constantFrom('s', 't'), element).map(([f, a]) => ({ kind: 'add', path: ['sets', f], a })),
      fc.tuple(fc.constantFrom('s', 't'), element).map(([f, a]) => ({ kind: 'rem', path: ['sets', f], a })),
      fc.constantFrom(['x'], ['c'], ['c', 'n'], ['sets'], ['sets', 's'], ['doc']).map((path) => ({ kind: 'del', path })),
      fc.tuple(fc.nat(), fc.constantFrom('ab', 'X', 'hello')).map(([n, a]) => ({ kind: 'txt', path: ['doc'], a, n })),
      fc.tuple(fc.nat(), fc.integer({ min: 1, max: 3 })).map(([n, len]) => ({ kind: 'cut', path: ['doc'], n, a: len })),
    ),
    apply: (c, op) => {
      const m = c as ORMap;
      switch (op.kind) {
        case 'reg':
          return m.setRegister(op.path!, op.a!);
        case 'ctr':
          return m.increment(op.path!, op.n);
        case 'add':
          return m.addToSet(op.path!, op.a!);
        case 'rem':
          return m.removeFromSet(op.path!, op.a!);
        case 'txt':
          return m.ops.sequenceEdit<string>(op.path!, CrdtType.Text, (seq, clock) => seq.insert(op.n! % (seq.length + 1), op.a as string, clock));
        case 'cut':
          return m.ops.sequenceEdit<string>(op.path!, CrdtType.Text, (seq, clock) => {
            const at = seq.length === 0 ? 0 : op.n! % seq.length;
            return seq.delete(at, Math.min(op.a as number, seq.length - at), clock);
          });
        default:
          return m.remove(op.path!);
      }
    },
    value: (c) => canonicalJson(sortArrays((c as ORMap).value() as JsonValue)),
  },
];

/** Sorts every array inside a JSON value (sets have no order; the test values hold no lists). */
function sortArrays(v: JsonValue): JsonValue {
  if (Array.isArray(v)) return v.map(sortArrays).sort((a, b) => (canonicalJson(a) < canonicalJson(b) ? -1 : 1));
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, sortArrays(x)]));
  return v;
}
