// Deterministic text rendering of a CRDT's whole state (context, removal records, store),
// independent of insertion order: two replicas are in the same state exactly when their
// descriptions are equal. For tests and for debugging output.
import type { CausalContext } from '../clock/causal-context.ts';
import type { Dot } from '../clock/dot.ts';
import type { CausalCrdt } from '../crdt/causal-crdt.ts';
import type { CounterContribution, CounterStore } from '../crdt/counter-store.ts';
import { CrdtType, type DotStore, type RemovalEntry } from '../crdt/dot-store.ts';
import type { MapStore } from '../crdt/map-store.ts';
import type { RegisterStore } from '../crdt/register-store.ts';
import type { SetStore } from '../crdt/set-store.ts';
import { canonicalJson } from '../codec/json-value.ts';

export function describeCrdt(crdt: CausalCrdt<DotStore>): string {
  return [`ctx ${describeContext(crdt.context)}`, `removals ${describeRemovals(crdt.removals.all())}`, `store ${describeStore(crdt.store)}`].join('\n');
}

export function describeContext(ctx: CausalContext): string {
  const parts: string[] = [];
  for (const [replica, set] of [...ctx.entries].sort((a, b) => a[0] - b[0])) parts.push(`${replica}:[${set.ranges.join(',')}]`);
  return `{${parts.join(' ')}}`;
}

function describeDots(dots: readonly Dot[]): string {
  return dots
    .map((d) => `${d.replica}.${d.counter}`)
    .sort()
    .join(',');
}

function describeRemovals(entries: readonly RemovalEntry[]): string {
  return entries
    .map((e) => `${e.op.replica}.${e.op.counter}-${e.slots.map((s) => `${JSON.stringify(s.path)}[${describeDots(s.dots)}]`).sort().join('')}`)
    .sort()
    .join(' ');
}

function describeContributions(m: ReadonlyMap<number, CounterContribution>): string {
  return [...m]
    .sort((a, b) => a[0] - b[0])
    .map(([r, e]) => `${r}.${e.counter}+${e.inc}-${e.dec}`)
    .join(',');
}

export function describeStore(store: DotStore): string {
  switch (store.type) {
    case CrdtType.Register:
      return `reg(${(store as RegisterStore).values
        .map((v) => `${v.dot.replica}.${v.dot.counter}@${v.stamp.wallMs}.${v.stamp.logical}=${canonicalJson(v.value)}`)
        .sort()
        .join(' ')} dead ${describeWatermark((store as RegisterStore).dead)})`;
    case CrdtType.Counter: {
      const c = store as CounterStore;
      return `ctr(${describeContributions(c.entries)} base ${describeContributions(c.bases)})`;
    }
    case CrdtType.Set:
      return `set(${[...(store as SetStore).elements]
        .map(([k, e]) => `${k}:[${describeDots(e.dots)}]`)
        .sort()
        .join(' ')} dead ${[...(store as SetStore).dead]
        .map(([k, w]) => `${k}:${describeWatermark(w)}`)
        .sort()
        .join(' ')})`;
    case CrdtType.Map:
      return `map(${[...(store as MapStore).fields]
        .map(([name, stores]) => `${JSON.stringify(name)}=${stores.map(describeStore).sort().join('|')}`)
        .sort()
        .join(' ')})`;
    default:
      return `type${store.type}(${JSON.stringify(store)})`;
  }
}

function describeWatermark(w: ReadonlyMap<number, number>): string {
  return [...w]
    .sort((a, b) => a[0] - b[0])
    .map(([r, c]) => `${r}<=${c}`)
    .join(',');
}
