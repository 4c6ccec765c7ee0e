// Observed-remove set with add-wins semantics and no element tombstones: a remove carries
// only the dots it observed (as causal context plus a removal record), so an add
// concurrent with a remove survives it.
import { elementKey, type JsonValue } from '../codec/json-value.ts';
import { CrdtType } from './dot-store.ts';
import type { Delta } from './delta.ts';
import { addToSet } from './g-set.ts';
import type { SetStore } from './set-store.ts';
import { SetCrdt } from './set-crdt.ts';

export class ORSet extends SetCrdt {
  add(value: JsonValue): Delta<SetStore> {
    return addToSet(this, value);
  }

  remove(value: JsonValue): Delta<SetStore> {
    const key = elementKey(value);
    const observed = this.store.removeValue(value, key);
    const d = this.nextDot();
    return this.localDelta(d, undefined, observed, [{ path: [key], dots: observed, type: CrdtType.Set }]);
  }
}
