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
  // At most one dot is superseded (this replica's earlier add of the value).
  const part = crdt.store.add(value, d, scratch);
  const delta = crdt.localDelta(d, part, scratch.length === 0 ? NONE : scratch);
  if (scratch.length !== 0) scratch.pop();
  return delta;
}

const NONE: readonly Dot[] = [];

/** Reused by addToSet: localDelta copies what it needs out of it. */
const scratch: Dot[] = [];
