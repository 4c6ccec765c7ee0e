// Deterministic text rendering of a CRDT's whole state (context, removal records, store),
// independent of insertion order: two replicas are in the same state exactly when their
// descriptions are equal. For tests and for debugging output.
import { CausalContext as Context, type CausalContext } from '../clock/causal-context.ts';
import type { Dot } from '../clock/dot.ts';
import type { CausalCrdt } from '../crdt/causal-crdt.ts';
import type { CounterContribution, CounterStore } from '../crdt/counter-store.ts';
import { CrdtType, type DotStore, type RemovalEntry } from '../crdt/dot-store.ts';
import type { MapStore } from '../crdt/map-store.ts';
import type { RegisterStore } from '../crdt/register-store.ts';
import type { SequenceStore } from '../crdt/sequence-store.ts';
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
    .map((e) => `${e.op.replica}.${e.op.counter}-${e.slots.map((s) => `${JSON.stringify(s.path)}:${s.type}[${describeDots(s.dots)}]`).sort().join('')}`)
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
    case CrdtType.Text:
    case CrdtType.List: {
      const s = store as SequenceStore<unknown>;
      if (s.seq === undefined) return `seqdelta(${s.delta!.items.length} items)`;
      // Run boundaries differ between replicas (merged locally, split remotely): render
      // the elements, not the runs.
      const elements = s.type === CrdtType.Text ? (s.seq.content() as string[]).join('') : s.seq.content().flat();
      // The delete log as what it says (ops and ids), not how it is split into records.
      const ops = new Context();
      const ids = new Context();
      s.seq.log.collect(new Context(), ops, ids);
      return `seq(${JSON.stringify(elements)} pending ${s.seq.pending.length} deletes ${describeContext(ops)} ${describeContext(ids)})`;
    }
    default:
      return `type${store.type}`;
  }
}

function describeWatermark(w: ReadonlyMap<number, number>): string {
  return [...w]
    .sort((a, b) => a[0] - b[0])
    .map(([r, c]) => `${r}<=${c}`)
    .join(',');
}
