// Grow-only set of JSON values.
import type { Dot } from '../clock/dot.ts';
import type { JsonValue } from '../codec/json-value.ts';
import { CausalCrdt } from './causal-crdt.ts';
import type { Delta } from './delta.ts';
import type { SetStore } from './set-store.ts';
import { SetCrdt } from './set-crdt.ts';

export class GSet extends SetCrdt {
  add(value: JsonValue): Delta<SetStore> {
    return addToSet(this, value);
  }
}

/** Shared by GSet and ORSet: a local add, returned as a delta. */
export function addToSet(crdt: CausalCrdt<SetStore>, value: JsonValue): Delta<SetStore> {
  const d = crdt.nextDot();
  const seen = scratch;
  seen.length = 0;
  const part = crdt.store.add(value, d, seen);
  return crdt.localDelta(d, part, seen);
}

/** Reused by addToSet: localDelta copies what it needs out of it. */
const scratch: Dot[] = [];
