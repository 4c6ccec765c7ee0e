// A Replica: one keyspace of keyed CRDTs on one device or server, the object every shell
// (browser, edge, origin) holds. Local ops apply at once and return a delta; deltas from
// elsewhere join in any order. The generic sync pair is contextOf() / deltaSince() /
// applyDelta(); encode()/Replica.decode() give a whole-state snapshot for storage.
import { CausalContext } from '../clock/causal-context.ts';
import { HybridLogicalClock } from '../clock/hlc.ts';
import { type ReplicaId, replicaId as checkReplicaId } from '../clock/replica-id.ts';
import { DeltaEncoder } from '../codec/delta/encoder.ts';
import { decodeDelta } from '../codec/delta/decoder.ts';
import { type DecodeLimits, DEFAULT_DECODE_LIMITS, DeltaKind } from '../codec/delta/layout.ts';
import { isJsonValue, type JsonValue } from '../codec/json-value.ts';
import { CausalCrdt } from '../crdt/causal-crdt.ts';
import { Delta } from '../crdt/delta.ts';
import { CRDT_TYPE_NAMES, type CrdtTypeName, type DotStore } from '../crdt/dot-store.ts';
import { MapOps } from '../crdt/map-ops.ts';
import { MapStore } from '../crdt/map-store.ts';
import { RegisterStore } from '../crdt/register-store.ts';
import { storeValue } from '../crdt/store-value.ts';
import { SequenceStore } from '../crdt/sequence-store.ts';
import type { Patch } from '../text/delta.ts';
import { DecodeError, ErrorCode, InvalidArgumentError } from '../errors.ts';
import { CounterHandle, type HandleHost, MapHandle, RegisterHandle, SetHandle } from './handles.ts';
import { ListHandle, TextHandle } from './sequence-handles.ts';
import { KeyPattern } from './key-pattern.ts';
import { ListenersFailedError } from './errors.ts';

export const MAX_KEY_BYTES = 1024;
const utf8 = new TextEncoder();

export interface ReplicaOptions {
  replicaId: ReplicaId;
  /** Name of the keyspace (default `default`). */
  keyspace?: string;
  /** Physical time in ms for register stamps; the core reads no clock (default: always 0). */
  now?: () => number;
  /** Limits applied when decoding deltas (default: 1 MiB strings). */
  decodeLimits?: DecodeLimits;
}

export const ChangeOrigin = { Local: 'local', Remote: 'remote' } as const;
export type ChangeOrigin = (typeof ChangeOrigin)[keyof typeof ChangeOrigin];

/** One key's change. `value` is computed when first read, so unread events cost little. */
export class ChangeEvent {
  readonly key: string;
  readonly origin: ChangeOrigin;
  private readonly store: DotStore | undefined;
  private cached: unknown;
  private computed = false;

  private readonly patchList: readonly Patch<unknown>[] | undefined;

  constructor(key: string, store: DotStore | undefined, origin: ChangeOrigin) {
    this.key = key;
    this.store = store;
    this.origin = origin;
    this.cached = undefined;
    // Captured now: a store's patch list is replaced (never mutated) by its next change.
    this.patchList = store instanceof SequenceStore && store.patches.length > 0 ? store.patches : undefined;
  }

  /** The key's type now, undefined once deleted. */
  get type(): CrdtTypeName | undefined {
    return this.store === undefined ? undefined : CRDT_TYPE_NAMES[this.store.type];
  }

  get deleted(): boolean {
    return this.store === undefined;
  }

  /**
   * For a text or list: the change as index patches, in order, for binding an editor.
   * Undefined for other types, and for undo/redo (read `value` then).
   */
  get patches(): readonly Patch<unknown>[] | undefined {
    return this.patchList;
  }

  /** The key's value after the change (undefined once deleted). */
  get value(): unknown {
    if (!this.computed) {
      this.cached = this.store === undefined ? undefined : storeValue(this.store);
      this.computed = true;
    }
    return this.cached;
  }
}

export type ChangeListener = (event: ChangeEvent) => void;
/** Receives every local op's delta: shells persist it and send it on. */
export type DeltaListener = (delta: Delta<MapStore>) => void;
/** Receives what a change or delta listener threw (see Replica.onListenerError). */
export type ListenerErrorHandler = (error: unknown) => void;

interface Subscription {
  readonly pattern: KeyPattern;
  readonly listener: ChangeListener;
}

export class Replica implements HandleHost {
  readonly id: ReplicaId;
  readonly keyspace: string;
  readonly ops: MapOps;
  private readonly state: CausalCrdt<MapStore>;
  private readonly subscriptions = new Set<Subscription>();
  private readonly deltaListeners = new Set<DeltaListener>();
  private readonly listenerErrorHandlers = new Set<ListenerErrorHandler>();
  private readonly encoder = new DeltaEncoder();
  private readonly limits: DecodeLimits;
  private readonly nowMs: () => number;

  constructor(options: ReplicaOptions) {
    this.id = checkReplicaId(options.replicaId);
    this.keyspace = options.keyspace ?? 'default';
    this.state = new CausalCrdt(this.id, new MapStore());
    this.ops = new MapOps(this.state, new HybridLogicalClock(), options.now ?? (() => 0));
    this.limits = options.decodeLimits ?? DEFAULT_DECODE_LIMITS;
    this.nowMs = options.now ?? (() => 0);
  }

  now(): number {
    return this.nowMs();
  }

  // ---- typed handles -------------------------------------------------------------

  counter(key: string): CounterHandle {
    return new CounterHandle(this, [this.checkName(key)]);
  }

  register(key: string): RegisterHandle {
    return new RegisterHandle(this, [this.checkName(key)]);
  }

  set(key: string): SetHandle {
    return new SetHandle(this, [this.checkName(key)]);
  }

  map(key: string): MapHandle {
    return new MapHandle(this, [this.checkName(key)]);
  }

  /** A collaborative text: index edits, cursors, patches in change events, local undo. */
  text(key: string): TextHandle {
    return new TextHandle(this, [this.checkName(key)]);
  }

  /** A list of JSON values with the same machinery as text. */
  list(key: string): ListHandle {
    return new ListHandle(this, [this.checkName(key)]);
  }

  // ---- plain key access ------------------------------------------------------------

  /** The value under `key` (a register's value, a counter's number, ...), or undefined. */
  get(key: string): unknown {
    const store = this.state.store.visible(key);
    return store === undefined ? undefined : storeValue(store);
  }

  /** Writes `value` to the register at `key`. */
  put(key: string, value: JsonValue): Delta<MapStore> {
    return this.register(key).set(value);
  }

  /** Removes `key` and everything this replica observed under it. */
  delete(key: string): Delta<MapStore> {
    const path = [this.checkName(key)];
    return this.commit(path, () => this.ops.removeField(path));
  }

  has(key: string): boolean {
    return this.state.store.visible(key) !== undefined;
  }

  typeOf(key: string): CrdtTypeName | undefined {
    const store = this.state.store.visible(key);
    return store === undefined ? undefined : CRDT_TYPE_NAMES[store.type];
  }

  /** Keys in insertion order; with `prefix`, only those starting with it. */
  keys(prefix = ''): string[] {
    const out: string[] = [];
    for (const key of this.state.store.names()) if (key.startsWith(prefix)) out.push(key);
    return out;
  }

  get size(): number {
    let n = 0;
    for (const _ of this.state.store.names()) n++;
    return n;
  }

  // ---- events -------------------------------------------------------------------

  /** Calls `listener` for every change of a key matching `pattern` (`*`, `user:*`, or a key). */
  subscribe(pattern: string, listener: ChangeListener): () => void {
    const sub: Subscription = { pattern: new KeyPattern(pattern), listener };
    this.subscriptions.add(sub);
    return () => this.subscriptions.delete(sub);
  }

  /** Calls `listener` with the delta of every local op. */
  onLocalDelta(listener: DeltaListener): () => void {
    this.deltaListeners.add(listener);
    return () => this.deltaListeners.delete(listener);
  }

  /**
   * A throwing listener never keeps the others from hearing a change, nor the rest of the
   * changes of an applied delta from being announced. What it threw goes to every handler
   * set here (as a browser reports a throwing event listener; the op then returns as
   * usual): a handler added by an app does not displace one a shell added (the browser
   * client reports to its onError through one). Without a handler, the op or applyDelta
   * throws once every listener ran: the listener's own error, or a ListenersFailedError
   * when several threw. Either way the change itself is already in the replica. Returns
   * what removes the handler.
   */
  onListenerError(handler: ListenerErrorHandler): () => void {
    this.listenerErrorHandlers.add(handler);
    return () => this.listenerErrorHandlers.delete(handler);
  }

  // ---- sync ----------------------------------------------------------------------

  /** A copy of every dot this replica has seen. */
  contextOf(): CausalContext {
    return this.state.context.clone();
  }

  /** Everything a replica whose context is `context` lacks (its removals included). */
  deltaSince(context: CausalContext): Delta<MapStore> {
    return this.state.deltaSince(context);
  }

  /**
   * Joins a delta (or its encoded bytes) from another replica. Bytes are decoded and
   * validated in full first: a malformed delta throws DecodeError and changes nothing.
   * Returns the changes it made visible.
   */
  applyDelta(delta: Delta<MapStore> | Uint8Array): ChangeEvent[] {
    const d = delta instanceof Uint8Array ? this.decodeDelta(delta) : delta;
    if (d.store !== undefined) this.ops.observeStamps(d.store);
    const changed = new Set<string>();
    this.state.applyDelta(d, changed);
    const events: ChangeEvent[] = [];
    const failures: unknown[] = [];
    for (const key of changed) events.push(this.emit(key, ChangeOrigin.Remote, failures));
    this.settle(failures);
    return events;
  }

  /**
   * True when the register at `key` (or a register field of the map at `key`, one level
   * down) holds values written concurrently: writes none of which saw the others. Reads
   * still see one winner (last-writer-wins); shells count these as resolved conflicts.
   */
  isConcurrent(key: string): boolean {
    const store = this.state.store.visible(key);
    if (store instanceof RegisterStore) return store.values.length > 1;
    if (store instanceof MapStore) {
      for (const stores of store.fields.values()) for (const s of stores) if (s instanceof RegisterStore && s.values.length > 1) return true;
    }
    return false;
  }

  /** Drops removal records every known replica has seen (see CausalCrdt.collectGarbage). */
  collectGarbage(stable: CausalContext): number {
    return this.state.collectGarbage(stable);
  }

  /** Number of removal records kept for peers that may not have seen them. */
  get pendingRemovals(): number {
    return this.state.removals.size;
  }

  // ---- encoding ------------------------------------------------------------------

  encodeDelta(delta: Delta<MapStore>): Uint8Array {
    return this.encoder.encode(delta, DeltaKind.Delta);
  }

  decodeDelta(bytes: Uint8Array): Delta<MapStore> {
    return asMapDelta(decodeDelta(bytes, this.limits).delta);
  }

  /**
   * The whole replica state (context, removal records, every key) as bytes: a state
   * snapshot, whose texts and lists take their compact state form (layout.ts).
   */
  encode(): Uint8Array {
    const state = this.state;
    return this.encoder.encode(new Delta(state.context, state.store, state.removals.all()), DeltaKind.StateSnapshot);
  }

  /** Rebuilds a replica from `encode()` output. Throws DecodeError on malformed input. */
  static decode(bytes: Uint8Array, options: ReplicaOptions): Replica {
    const replica = new Replica(options);
    const { kind, delta } = decodeDelta(bytes, replica.limits);
    if (kind !== DeltaKind.Snapshot && kind !== DeltaKind.StateSnapshot) throw new DecodeError(ErrorCode.DecodeType, 'expected a replica snapshot, got a delta', 1);
    replica.applyDelta(asMapDelta(delta));
    return replica;
  }

  // ---- HandleHost ------------------------------------------------------------------

  /** Runs a local op on `path`, emits its change and its delta. */
  commit(path: readonly string[], op: () => Delta<MapStore>): Delta<MapStore> {
    const delta = op();
    const failures: unknown[] = [];
    this.emit(path[0]!, ChangeOrigin.Local, failures);
    // Delta listeners persist and send the op: an app's throwing change listener must not stop them.
    for (const listener of this.deltaListeners) {
      try {
        listener(delta);
      } catch (e) {
        failures.push(e);
      }
    }
    this.settle(failures);
    return delta;
  }

  checkValue(value: unknown): JsonValue {
    if (!isJsonValue(value)) throw new InvalidArgumentError('values must be plain JSON (finite numbers, no undefined, no class instances)');
    return value;
  }

  checkName(name: string): string {
    if (typeof name !== 'string' || name.length === 0) throw new InvalidArgumentError('keys and field names must be non-empty strings');
    if (name.length * 3 > MAX_KEY_BYTES && utf8.encode(name).length > MAX_KEY_BYTES) {
      throw new InvalidArgumentError(`key is longer than ${MAX_KEY_BYTES} bytes of UTF-8`);
    }
    return name;
  }

  /** Announces `key`'s change to every matching subscription; what they throw goes to `failures`. */
  private emit(key: string, origin: ChangeOrigin, failures: unknown[]): ChangeEvent {
    const event = new ChangeEvent(key, this.state.store.visible(key), origin);
    for (const sub of this.subscriptions) {
      if (!sub.pattern.matches(key)) continue;
      try {
        sub.listener(event);
      } catch (e) {
        failures.push(e);
      }
    }
    return event;
  }

  /** Hands listener failures to the handler, or throws them once everyone was called. */
  private settle(failures: unknown[]): void {
    if (failures.length === 0) return;
    if (this.listenerErrorHandlers.size > 0) {
      // A handler that throws still hears every failure, and so does every other handler;
      // the first error a handler threw is thrown last.
      let thrown: { error: unknown } | undefined;
      for (const handler of [...this.listenerErrorHandlers]) {
        for (const e of failures) {
          try {
            handler(e);
          } catch (error) {
            thrown ??= { error };
          }
        }
      }
      if (thrown !== undefined) throw thrown.error;
      return;
    }
    throw failures.length === 1 ? failures[0] : new ListenersFailedError(failures);
  }
}

function asMapDelta(delta: Delta): Delta<MapStore> {
  if (delta.store !== undefined && !(delta.store instanceof MapStore)) {
    throw new DecodeError(ErrorCode.DecodeType, 'a replica delta must carry a map store', 2);
  }
  return delta as Delta<MapStore>;
}
