// Observed-remove map whose fields hold nested CRDTs: registers, counters, sets and maps,
// at any depth. Removing a field removes what the remover observed beneath it; updates
// made concurrently with the removal survive it.
import { HybridLogicalClock } from '../clock/hlc.ts';
import type { ReplicaId } from '../clock/replica-id.ts';
import type { JsonValue } from '../codec/json-value.ts';
import { CausalCrdt } from './causal-crdt.ts';
import type { CounterStore } from './counter-store.ts';
import type { Delta } from './delta.ts';
import { CrdtType } from './dot-store.ts';
import { MapOps } from './map-ops.ts';
import { MapStore } from './map-store.ts';
import type { RegisterStore } from './register-store.ts';
import type { SetStore } from './set-store.ts';
import { storeValue } from './store-value.ts';

export class ORMap extends CausalCrdt<MapStore> {
  readonly ops: MapOps;

  /** `now` supplies physical time for register stamps (the core reads no clock itself). */
  constructor(replica: ReplicaId, now: () => number = () => 0) {
    super(replica, new MapStore());
    this.ops = new MapOps(this, new HybridLogicalClock(), now);
  }

  /** Writes a register at `path` (field names, outermost first). */
  setRegister(path: readonly string[], value: JsonValue): Delta<MapStore> {
    return this.ops.registerWrite(path, value);
  }

  increment(path: readonly string[], by = 1): Delta<MapStore> {
    return this.ops.counterAdd(path, by);
  }

  addToSet(path: readonly string[], value: JsonValue): Delta<MapStore> {
    return this.ops.setAdd(path, value);
  }

  removeFromSet(path: readonly string[], value: JsonValue): Delta<MapStore> {
    return this.ops.setRemove(path, value);
  }

  remove(path: readonly string[]): Delta<MapStore> {
    return this.ops.removeField(path);
  }

  override applyDelta(delta: Delta<MapStore>, changed?: Set<string>): boolean {
    if (delta.store !== undefined) this.ops.observeStamps(delta.store);
    return super.applyDelta(delta, changed);
  }

  /** The value at `path` (undefined when absent). */
  get(path: readonly string[]): unknown {
    const store = this.ops.read(path);
    return store === undefined ? undefined : storeValue(store);
  }

  counterValue(path: readonly string[]): number {
    return ((this.ops.readTyped(path, CrdtType.Counter) as CounterStore | undefined)?.value()) ?? 0;
  }

  setValues(path: readonly string[]): JsonValue[] {
    return ((this.ops.readTyped(path, CrdtType.Set) as SetStore | undefined)?.values()) ?? [];
  }

  registerValue(path: readonly string[]): JsonValue | undefined {
    return (this.ops.readTyped(path, CrdtType.Register) as RegisterStore | undefined)?.winner()?.value;
  }

  /** The whole map as a plain object. */
  value(): Record<string, unknown> {
    return storeValue(this.store) as Record<string, unknown>;
  }
}
