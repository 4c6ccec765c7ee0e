// Observed-remove set with add-wins semantics and no element tombstones: a remove carries
// only the dots it observed (as causal context plus a removal record), so an add
// concurrent with a remove survives it.
import type { ReplicaId } from '../clock/replica-id.ts';
import { elementKey, type JsonValue } from '../codec/json-value.ts';
import { CausalCrdt } from './causal-crdt.ts';
import { CrdtType } from './dot-store.ts';
import type { Delta } from './delta.ts';
import { addToSet } from './g-set.ts';
import { SetStore } from './set-store.ts';

export class ORSet extends CausalCrdt<SetStore> {
  constructor(replica: ReplicaId) {
    super(replica, new SetStore());
  }

  add(value: JsonValue): Delta<SetStore> {
    return addToSet(this, value);
  }

  remove(value: JsonValue): Delta<SetStore> {
    const key = elementKey(value);
    const observed = this.store.removeValue(value, key);
    const d = this.nextDot();
    return this.localDelta(d, undefined, observed, [{ path: [key], dots: observed, type: CrdtType.Set }]);
  }

  has(value: JsonValue): boolean {
    return this.store.has(value);
  }

  values(): JsonValue[] {
    return this.store.values();
  }

  get size(): number {
    return this.store.elements.size;
  }
}
