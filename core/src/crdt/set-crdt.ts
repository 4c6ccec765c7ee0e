// What every standalone set type offers for reading (GSet and ORSet share it).
import type { ReplicaId } from '../clock/replica-id.ts';
import type { JsonValue } from '../codec/json-value.ts';
import { CausalCrdt } from './causal-crdt.ts';
import { SetStore } from './set-store.ts';

export abstract class SetCrdt extends CausalCrdt<SetStore> {
  constructor(replica: ReplicaId) {
    super(replica, new SetStore());
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
