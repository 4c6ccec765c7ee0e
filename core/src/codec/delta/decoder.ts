// Decodes deltas and snapshots (layout.ts), validating everything before anything is
// applied: the result is either a well-formed Delta or a DecodeError. Well-formed means
// every dot it mentions lies in its own context, no slot holds two dots of one replica,
// no name or element repeats, and nesting stays within MAX_MAP_DEPTH.
import { CausalContext } from '../../clock/causal-context.ts';
import { type Dot, dot } from '../../clock/dot.ts';
import { RangeSet } from '../../clock/range-set.ts';
import type { ReplicaId } from '../../clock/replica-id.ts';
import { CounterContribution, CounterStore } from '../../crdt/counter-store.ts';
import { Delta } from '../../crdt/delta.ts';
import { CrdtType, type DotStore, type RemovalEntry, type RemovedSlot } from '../../crdt/dot-store.ts';
import { MapStore } from '../../crdt/map-store.ts';
import { RegisterStore, RegisterValue } from '../../crdt/register-store.ts';
import { SetElement, SetStore } from '../../crdt/set-store.ts';
import { ErrorCode } from '../../errors.ts';
import { isDead } from '../../crdt/dead-watermark.ts';
import { elementKey, readJson } from '../json-value.ts';
import { Reader } from '../reader.ts';
import { DEFAULT_DECODE_LIMITS, DELTA_FORMAT_VERSION, DeltaKind, type DecodeLimits, MAX_MAP_DEPTH, REPLICA_ID_BYTES } from './layout.ts';
import { SequenceStore, type SequenceType } from '../../crdt/sequence-store.ts';
import { type ContentKind, listKind, textKind } from '../../text/content.ts';
import { readDelta as readSequenceDelta } from '../../text/delta-codec.ts';
import type { DeltaItem } from '../../text/delta.ts';
import { readState as readSequenceState } from '../../text/state-codec.ts';
import { DecodeError } from '../../errors.ts';

export interface DecodedDelta {
  readonly kind: DeltaKind;
  readonly delta: Delta;
}

export function decodeDelta(bytes: Uint8Array, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): DecodedDelta {
  const r = new Reader(bytes);
  const version = r.u8();
  if (version !== DELTA_FORMAT_VERSION) {
    r.pos--;
    r.fail(ErrorCode.DecodeVersion, `delta format version ${version} is not supported (this build reads ${DELTA_FORMAT_VERSION})`);
  }
  const header = r.u8();
  const kind = header >> 4;
  if (kind !== DeltaKind.Delta && kind !== DeltaKind.Snapshot && kind !== DeltaKind.StateSnapshot) r.fail(ErrorCode.DecodeType, `unknown delta kind ${kind}`);
  const rootType = header & 0x0f;
  if (rootType !== 0 && !isStoreType(rootType)) r.fail(ErrorCode.DecodeType, `unknown store type ${rootType}`);
  const ids = readReplicaTable(r);
  const context = readContext(r, ids);
  const removals = readRemovals(r, ids, context, limits);
  const store = rootType === 0 ? undefined : readStore(r, rootType, ids, context, limits, 0, kind === DeltaKind.StateSnapshot);
  r.end();
  return { kind: kind as DeltaKind, delta: new Delta(context, store, removals, kind === DeltaKind.StateSnapshot) };
}

function isStoreType(t: number): boolean {
  return t >= CrdtType.Register && t <= CrdtType.List;
}

function readSequence<C>(r: Reader, type: SequenceType, kind: ContentKind<C>, ctx: CausalContext, stateForm: boolean): SequenceStore<C> {
  const start = r.pos;
  if (stateForm) {
    const { sequence, dots } = readSequenceState(r, 0 as ReplicaId, kind);
    if (!ctx.includes(dots)) throw new DecodeError(ErrorCode.DecodeInvalid, "sequence state holds dots outside the snapshot's context", start);
    const pending = readSequenceDelta(r, kind);
    if (!pending.deleteDots.isEmpty || !pending.deletedIds.isEmpty) throw new DecodeError(ErrorCode.DecodeInvalid, 'pending sequence items carry deletes', start);
    checkItemsInContext(pending.items, ctx, start);
    return SequenceStore.ofState(type, kind, sequence, dots, pending.items);
  }
  const d = readSequenceDelta(r, kind);
  checkItemsInContext(d.items, ctx, start);
  if (!ctx.includes(d.deleteDots)) throw new DecodeError(ErrorCode.DecodeInvalid, "sequence delete op is not in the delta's context", start);
  if (d.items.length === 0 && d.deleteDots.isEmpty) throw new DecodeError(ErrorCode.DecodeInvalid, 'empty sequence delta', start);
  return SequenceStore.ofDelta(type, kind, d);
}

function checkItemsInContext<C>(items: readonly DeltaItem<C>[], ctx: CausalContext, start: number): void {
  for (const it of items) {
    if (!ctx.hasRange(it.replica, it.counter, it.counter + it.length - 1)) {
      throw new DecodeError(ErrorCode.DecodeInvalid, `sequence run ${it.replica}:${it.counter} is not in the delta's context`, start);
    }
  }
}

function readReplicaTable(r: Reader): ReplicaId[] {
  const n = r.count('replica table', REPLICA_ID_BYTES);
  const ids: ReplicaId[] = new Array(n);
  const seen = new Set<number>();
  for (let i = 0; i < n; i++) {
    const b = r.raw(REPLICA_ID_BYTES);
    const high = (b[0]! << 16) | (b[1]! << 8) | b[2]!;
    const low = ((b[3]! << 24) >>> 0) + ((b[4]! << 16) | (b[5]! << 8) | b[6]!);
    const id = high * 0x100000000 + low;
    if (id === 0 || id > Number.MAX_SAFE_INTEGER) r.fail(ErrorCode.DecodeInvalid, `replica id ${id} out of range`);
    if (seen.has(id)) r.fail(ErrorCode.DecodeInvalid, `replica id ${id} repeated in the table`);
    seen.add(id);
    ids[i] = id as ReplicaId;
  }
  return ids;
}

function readIndex(r: Reader, ids: readonly ReplicaId[]): ReplicaId {
  const i = r.varuint();
  if (i >= ids.length) r.fail(ErrorCode.DecodeInvalid, `replica index ${i} outside a table of ${ids.length}`);
  return ids[i]!;
}

function readContext(r: Reader, ids: readonly ReplicaId[]): CausalContext {
  const ctx = new CausalContext();
  const n = r.count('context entries', 3);
  for (let i = 0; i < n; i++) {
    const replica = readIndex(r, ids);
    if (ctx.entries.has(replica)) r.fail(ErrorCode.DecodeInvalid, `replica ${replica} twice in the context`);
    const rangeCount = r.count('context ranges', 2);
    if (rangeCount === 0) r.fail(ErrorCode.DecodeInvalid, 'empty range list in the context');
    const ranges: number[] = new Array(rangeCount * 2);
    let prevEnd = 0;
    for (let k = 0; k < rangeCount; k++) {
      const gap = r.varuint();
      if (k > 0 && gap === 0) r.fail(ErrorCode.DecodeInvalid, 'adjacent ranges in the context');
      const start = prevEnd + gap + 1;
      const end = start + r.varuint();
      if (end > Number.MAX_SAFE_INTEGER) r.fail(ErrorCode.DecodeInvalid, 'counter exceeds 2^53 - 1');
      ranges[k * 2] = start;
      ranges[k * 2 + 1] = end;
      prevEnd = end;
    }
    ctx.entries.set(replica, new RangeSet(ranges));
  }
  return ctx;
}

function readAnyDot(r: Reader, ids: readonly ReplicaId[]): Dot {
  const replica = readIndex(r, ids);
  const counter = r.varuint();
  if (counter === 0) r.fail(ErrorCode.DecodeInvalid, 'dot counter 0');
  return dot(replica, counter);
}

export function readDot(r: Reader, ids: readonly ReplicaId[], ctx: CausalContext): Dot {
  const replica = readIndex(r, ids);
  const counter = r.varuint();
  if (counter === 0) r.fail(ErrorCode.DecodeInvalid, 'dot counter 0');
  if (!ctx.has(replica, counter)) r.fail(ErrorCode.DecodeInvalid, `dot ${replica}:${counter} is not in the delta's context`);
  return dot(replica, counter);
}

function readRemovals(r: Reader, ids: readonly ReplicaId[], ctx: CausalContext, limits: DecodeLimits): RemovalEntry[] {
  const n = r.count('removals', 4);
  const out: RemovalEntry[] = new Array(n);
  const ops = new CausalContext();
  for (let i = 0; i < n; i++) {
    const op = readDot(r, ids, ctx);
    if (ops.hasDot(op)) r.fail(ErrorCode.DecodeInvalid, 'removal op repeated');
    ops.addDot(op);
    const slotCount = r.count('removal slots', 2);
    if (slotCount === 0) r.fail(ErrorCode.DecodeInvalid, 'removal without slots');
    const slots: RemovedSlot[] = new Array(slotCount);
    for (let s = 0; s < slotCount; s++) {
      const pathLen = r.count('removal path', 1);
      if (pathLen > MAX_MAP_DEPTH + 1) r.fail(ErrorCode.DecodeInvalid, `removal path longer than ${MAX_MAP_DEPTH + 1}`);
      const path: string[] = new Array(pathLen);
      for (let k = 0; k < pathLen; k++) path[k] = r.string(limits.maxStringBytes);
      const m = r.count('removed dots', 2);
      if (m === 0) r.fail(ErrorCode.DecodeInvalid, 'removal slot without dots');
      // Removed dots need not be in the context: a deltaSince delta leaves out what the
      // receiver already knows, and that is exactly what a removal is about.
      const dots: Dot[] = new Array(m);
      for (let k = 0; k < m; k++) dots[k] = readAnyDot(r, ids);
      const type = r.u8();
      if (!isStoreType(type) || type === CrdtType.Map) r.fail(ErrorCode.DecodeType, `removal slot of store type ${type}`);
      if (pathLen < (type === CrdtType.Set ? 1 : 0)) r.fail(ErrorCode.DecodeInvalid, 'set removal without an element key');
      slots[s] = { path, dots, type: type as CrdtType };
    }
    out[i] = { op, slots };
  }
  return out;
}

/** `stateForm`: sequences come in their state form (a state snapshot; see layout.ts). */
export function readStore(r: Reader, type: number, ids: readonly ReplicaId[], ctx: CausalContext, limits: DecodeLimits, depth: number, stateForm = false): DotStore {
  switch (type) {
    case CrdtType.Register:
      return readRegister(r, ids, ctx, limits);
    case CrdtType.Counter:
      return readCounter(r, ids, ctx);
    case CrdtType.Set:
      return readSet(r, ids, ctx, limits);
    case CrdtType.Map:
      return readMap(r, ids, ctx, limits, depth, stateForm);
    case CrdtType.Text:
      return readSequence(r, CrdtType.Text, textKind, ctx, stateForm);
    case CrdtType.List:
      return readSequence(r, CrdtType.List, listKind, ctx, stateForm);
    default:
      r.fail(ErrorCode.DecodeType, `unknown store type ${type}`);
  }
}

function readWatermark(r: Reader, ids: readonly ReplicaId[]): Map<ReplicaId, number> {
  const n = r.count('watermark entries', 2);
  const out = new Map<ReplicaId, number>();
  for (let i = 0; i < n; i++) {
    const replica = readIndex(r, ids);
    if (out.has(replica)) r.fail(ErrorCode.DecodeInvalid, 'watermark lists a replica twice');
    const counter = r.varuint();
    if (counter === 0) r.fail(ErrorCode.DecodeInvalid, 'watermark counter 0');
    out.set(replica, counter);
  }
  return out;
}

function readRegister(r: Reader, ids: readonly ReplicaId[], ctx: CausalContext, limits: DecodeLimits): RegisterStore {
  const n = r.count('register values', 5);
  const values: RegisterValue[] = new Array(n);
  const replicas = new Set<number>();
  for (let i = 0; i < n; i++) {
    const d = readDot(r, ids, ctx);
    if (replicas.has(d.replica)) r.fail(ErrorCode.DecodeInvalid, 'register holds two values of one replica');
    replicas.add(d.replica);
    const wallMs = r.varuint();
    const logical = r.varuint();
    values[i] = new RegisterValue(d, readJson(r, limits.maxStringBytes), { wallMs, logical });
  }
  const dead = readWatermark(r, ids);
  if (n === 0 && dead.size === 0) r.fail(ErrorCode.DecodeInvalid, 'empty register');
  for (const v of values) if (isDead(dead, v.dot)) r.fail(ErrorCode.DecodeInvalid, 'register value covered by its own watermark');
  return new RegisterStore(values, dead);
}

function readCounter(r: Reader, ids: readonly ReplicaId[], ctx: CausalContext): CounterStore {
  const entries = readContributions(r, ids, ctx, true);
  const bases = readContributions(r, ids, ctx, false);
  if (entries.size === 0 && bases.size === 0) r.fail(ErrorCode.DecodeInvalid, 'empty counter');
  for (const [replica, e] of entries) {
    const b = bases.get(replica);
    if (b !== undefined && (b.counter >= e.counter || b.inc > e.inc || b.dec > e.dec)) {
      r.fail(ErrorCode.DecodeInvalid, `counter base of replica ${replica} is not below its contribution`);
    }
  }
  return new CounterStore(entries, bases);
}

function readContributions(r: Reader, ids: readonly ReplicaId[], ctx: CausalContext, live: boolean): Map<ReplicaId, CounterContribution> {
  const n = r.count('counter entries', 4);
  const out = new Map<ReplicaId, CounterContribution>();
  for (let i = 0; i < n; i++) {
    const replica = readIndex(r, ids);
    if (out.has(replica)) r.fail(ErrorCode.DecodeInvalid, 'counter lists a replica twice');
    const counter = r.varuint();
    if (counter === 0) r.fail(ErrorCode.DecodeInvalid, 'counter dot 0');
    // A live contribution's dot is in the delta's context; a base names a removed dot the
    // delta need not mention.
    if (live && !ctx.has(replica, counter)) r.fail(ErrorCode.DecodeInvalid, `counter dot ${replica}:${counter} is not in the delta's context`);
    out.set(replica, new CounterContribution(counter, r.varuint(), r.varuint()));
  }
  return out;
}

function readSet(r: Reader, ids: readonly ReplicaId[], ctx: CausalContext, limits: DecodeLimits): SetStore {
  const n = r.count('set elements', 3);
  const elements = new Map<string, SetElement>();
  for (let i = 0; i < n; i++) {
    const value = readJson(r, limits.maxStringBytes);
    const key = elementKey(value);
    if (elements.has(key)) r.fail(ErrorCode.DecodeInvalid, 'set element repeated');
    const m = r.count('element dots', 2);
    if (m === 0) r.fail(ErrorCode.DecodeInvalid, 'set element without dots');
    const dots: Dot[] = new Array(m);
    for (let k = 0; k < m; k++) {
      const d = readDot(r, ids, ctx);
      for (let j = 0; j < k; j++) if (dots[j]!.replica === d.replica) r.fail(ErrorCode.DecodeInvalid, 'set element holds two dots of one replica');
      dots[k] = d;
    }
    elements.set(key, new SetElement(value, dots));
  }
  const deadCount = r.count('set watermarks', 2);
  const dead = new Map<string, Map<ReplicaId, number>>();
  for (let i = 0; i < deadCount; i++) {
    const key = r.string(limits.maxStringBytes);
    if (dead.has(key)) r.fail(ErrorCode.DecodeInvalid, 'set watermark key repeated');
    const w = readWatermark(r, ids);
    if (w.size === 0) r.fail(ErrorCode.DecodeInvalid, 'empty set watermark');
    const e = elements.get(key);
    if (e !== undefined) for (const d of e.dots) if (isDead(w, d)) r.fail(ErrorCode.DecodeInvalid, 'set element dot covered by its watermark');
    dead.set(key, w);
  }
  if (n === 0 && deadCount === 0) r.fail(ErrorCode.DecodeInvalid, 'empty set');
  return new SetStore(elements, dead);
}

function readMap(r: Reader, ids: readonly ReplicaId[], ctx: CausalContext, limits: DecodeLimits, depth: number, stateForm: boolean): MapStore {
  if (depth >= MAX_MAP_DEPTH) r.fail(ErrorCode.DecodeInvalid, `maps nested deeper than ${MAX_MAP_DEPTH}`);
  const n = r.count('map fields', 3);
  const fields = new Map<string, DotStore[]>();
  for (let i = 0; i < n; i++) {
    const name = r.string(limits.maxStringBytes);
    if (fields.has(name)) r.fail(ErrorCode.DecodeInvalid, `map field ${JSON.stringify(name)} repeated`);
    // One store: its type byte. Several: 0, the count, then a type byte before each.
    const first = r.u8();
    let m = 1;
    if (first === 0) {
      m = r.count('field stores', 2);
      if (m < 2) r.fail(ErrorCode.DecodeInvalid, 'a multi-store field needs at least two stores');
    } else r.pos--;
    const stores: DotStore[] = [];
    for (let k = 0; k < m; k++) {
      const type = r.u8();
      if (!isStoreType(type)) r.fail(ErrorCode.DecodeType, `unknown store type ${type}`);
      if (stores.some((s) => s.type === type)) r.fail(ErrorCode.DecodeInvalid, 'map field lists one type twice');
      const s = readStore(r, type, ids, ctx, limits, depth + 1, stateForm);
      if (s.isDisposable()) r.fail(ErrorCode.DecodeInvalid, 'empty store in a map field');
      stores.push(s);
    }
    fields.set(name, stores);
  }
  return new MapStore(fields);
}
