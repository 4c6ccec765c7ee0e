// Typed handles on a key (or a field of a map, at any depth). A handle is a path and a
// way to run ops; it holds no state, so it is cheap and never goes stale.
import type { JsonValue } from '../codec/json-value.ts';
import type { CounterStore } from '../crdt/counter-store.ts';
import type { Delta } from '../crdt/delta.ts';
import { CrdtType } from '../crdt/dot-store.ts';
import type { MapOps } from '../crdt/map-ops.ts';
import type { MapStore } from '../crdt/map-store.ts';
import type { RegisterStore } from '../crdt/register-store.ts';
import type { SetStore } from '../crdt/set-store.ts';
import { storeValue } from '../crdt/store-value.ts';
import { InvalidArgumentError } from '../errors.ts';
import { ListHandle, TextHandle } from './sequence-handles.ts';

/** What a handle needs from its replica: read access, and a way to commit a local op. */
export interface HandleHost {
  readonly ops: MapOps;
  commit(path: readonly string[], op: () => Delta<MapStore>): Delta<MapStore>;
  checkValue(value: unknown): JsonValue;
  checkName(name: string): string;
  /** Physical time in ms as the shell supplies it (undo grouping). */
  now(): number;
}

export class CounterHandle {
  constructor(private readonly host: HandleHost, readonly path: readonly string[]) {}

  get value(): number {
    return (this.host.ops.readTyped(this.path, CrdtType.Counter) as CounterStore | undefined)?.value() ?? 0;
  }

  increment(by = 1): Delta<MapStore> {
    return this.host.commit(this.path, () => this.host.ops.counterAdd(this.path, checkInteger(by)));
  }

  decrement(by = 1): Delta<MapStore> {
    return this.increment(-checkInteger(by));
  }
}

export class RegisterHandle {
  constructor(private readonly host: HandleHost, readonly path: readonly string[]) {}

  /** The last-writer-wins value, undefined when unset. */
  get value(): JsonValue | undefined {
    return this.store()?.winner()?.value;
  }

  /** Every value written concurrently (multi-value view), winner last. */
  get values(): JsonValue[] {
    return this.store()?.concurrent().map((v) => v.value) ?? [];
  }

  set(value: JsonValue): Delta<MapStore> {
    const v = this.host.checkValue(value);
    return this.host.commit(this.path, () => this.host.ops.registerWrite(this.path, v));
  }

  private store(): RegisterStore | undefined {
    return this.host.ops.readTyped(this.path, CrdtType.Register) as RegisterStore | undefined;
  }
}

export class SetHandle {
  constructor(private readonly host: HandleHost, readonly path: readonly string[]) {}

  add(value: JsonValue): Delta<MapStore> {
    const v = this.host.checkValue(value);
    return this.host.commit(this.path, () => this.host.ops.setAdd(this.path, v));
  }

  remove(value: JsonValue): Delta<MapStore> {
    const v = this.host.checkValue(value);
    return this.host.commit(this.path, () => this.host.ops.setRemove(this.path, v));
  }

  has(value: JsonValue): boolean {
    return this.store()?.has(value) ?? false;
  }

  values(): JsonValue[] {
    return this.store()?.values() ?? [];
  }

  get size(): number {
    return this.store()?.elements.size ?? 0;
  }

  private store(): SetStore | undefined {
    return this.host.ops.readTyped(this.path, CrdtType.Set) as SetStore | undefined;
  }
}

export class MapHandle {
  constructor(private readonly host: HandleHost, readonly path: readonly string[]) {}

  private at(field: string): string[] {
    return [...this.path, this.host.checkName(field)];
  }

  /** The value of a field (any type), undefined when absent. */
  get(field: string): unknown {
    const store = this.host.ops.read(this.at(field));
    return store === undefined ? undefined : storeValue(store);
  }

  /** Writes a register field. */
  set(field: string, value: JsonValue): Delta<MapStore> {
    return new RegisterHandle(this.host, this.at(field)).set(value);
  }

  delete(field: string): Delta<MapStore> {
    const path = this.at(field);
    return this.host.commit(path, () => this.host.ops.removeField(path));
  }

  register(field: string): RegisterHandle {
    return new RegisterHandle(this.host, this.at(field));
  }

  counter(field: string): CounterHandle {
    return new CounterHandle(this.host, this.at(field));
  }

  /** A set-typed field (`set(field, value)` writes a register). */
  setField(field: string): SetHandle {
    return new SetHandle(this.host, this.at(field));
  }

  map(field: string): MapHandle {
    return new MapHandle(this.host, this.at(field));
  }

  text(field: string): TextHandle {
    return new TextHandle(this.host, this.at(field));
  }

  list(field: string): ListHandle {
    return new ListHandle(this.host, this.at(field));
  }

  keys(): string[] {
    const store = this.host.ops.readTyped(this.path, CrdtType.Map) as MapStore | undefined;
    return store === undefined ? [] : [...store.names()];
  }

  /** The whole map as a plain object. */
  value(): Record<string, unknown> {
    const store = this.host.ops.readTyped(this.path, CrdtType.Map);
    return store === undefined ? {} : (storeValue(store) as Record<string, unknown>);
  }
}

function checkInteger(by: number): number {
  if (!Number.isSafeInteger(by)) throw new InvalidArgumentError(`counter change must be a safe integer, got ${by}`);
  return by;
}
