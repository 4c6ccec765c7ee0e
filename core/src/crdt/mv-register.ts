// Multi-value register: a write replaces what it observed; concurrent writes are all kept
// until a later write observes them, so the application sees and resolves the conflict.
import type { JsonValue } from '../codec/json-value.ts';
import { LWWRegister } from './lww-register.ts';

export class MVRegister extends LWWRegister {
  /** Every concurrent value, in last-writer-wins order. */
  values(): JsonValue[] {
    return this.store.concurrent().map((v) => v.value);
  }
}
