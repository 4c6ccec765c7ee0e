// Encodes deltas and snapshots (layout.ts). One encoder is reusable: its writers are
// kept between calls, so encoding a one-op delta allocates only the result.
import { CausalContext } from '../../clock/causal-context.ts';
import type { Dot } from '../../clock/dot.ts';
import type { CounterContribution, CounterStore } from '../../crdt/counter-store.ts';
import type { ReplicaId } from '../../clock/replica-id.ts';
import type { Delta } from '../../crdt/delta.ts';
import { CrdtType, type DotStore } from '../../crdt/dot-store.ts';
import type { MapStore } from '../../crdt/map-store.ts';
import type { RegisterStore } from '../../crdt/register-store.ts';
import type { SetStore } from '../../crdt/set-store.ts';
import { AssertionError } from '../../errors.ts';
import { writeCausalContext } from '../causal-context.ts';
import { writeJson } from '../json-value.ts';
import { Writer } from '../writer.ts';
import { DELTA_FORMAT_VERSION, DeltaKind } from './layout.ts';
import { ReplicaTable } from './replica-table.ts';
import type { SequenceStore } from '../../crdt/sequence-store.ts';
import { writeDelta as writeSequenceDelta } from '../../text/delta-codec.ts';
import { writeState as writeSequenceState } from '../../text/state-codec.ts';

/** Never written to: the empty delete sets of a pending-items delta. */
const NO_DOTS = new CausalContext();

export class DeltaEncoder {
  private readonly body = new Writer(1024);
  private readonly out = new Writer(1024);
  private readonly table = new ReplicaTable();

  encode(delta: Delta, kind: DeltaKind = DeltaKind.Delta): Uint8Array {
    const body = this.body;
    const table = this.table;
    body.reset();
    table.reset();
    writeContext(body, delta.context, table);
    body.varuint(delta.removals.length);
    for (const e of delta.removals) {
      writeDot(body, e.op, table);
      body.varuint(e.slots.length);
      for (const slot of e.slots) {
        body.varuint(slot.path.length);
        for (const p of slot.path) body.string(p);
        body.varuint(slot.dots.length);
        for (const d of slot.dots) writeDot(body, d, table);
        body.u8(slot.type);
      }
    }
    if (delta.store !== undefined) writeStore(body, delta.store, table, kind === DeltaKind.StateSnapshot, kind !== DeltaKind.StateSnapshot && delta.fromStateSnapshot);

    const out = this.out;
    out.reset();
    out.u8(DELTA_FORMAT_VERSION);
    out.u8((kind << 4) | (delta.store === undefined ? 0 : delta.store.type));
    out.varuint(table.ids.length);
    for (const id of table.ids) writeReplicaId(out, id);
    out.raw(body.buf.subarray(0, body.pos));
    return out.finish();
  }
}

function writeReplicaId(w: Writer, id: number): void {
  // Big-endian 56-bit: the high 3 bytes, then the low 4.
  const high = Math.floor(id / 0x100000000);
  const low = id >>> 0;
  w.u8((high >>> 16) & 0xff);
  w.u8((high >>> 8) & 0xff);
  w.u8(high & 0xff);
  w.u8(low >>> 24);
  w.u8((low >>> 16) & 0xff);
  w.u8((low >>> 8) & 0xff);
  w.u8(low & 0xff);
}

export function writeDot(w: Writer, d: Dot, table: ReplicaTable): void {
  w.varuint(table.indexOf(d.replica));
  w.varuint(d.counter);
}

export function writeContext(w: Writer, ctx: CausalContext, table: ReplicaTable): void {
  writeCausalContext(w, ctx, (replica) => table.indexOf(replica));
}

function writeWatermark(w: Writer, dead: ReadonlyMap<ReplicaId, number>, table: ReplicaTable): void {
  w.varuint(dead.size);
  for (const [replica, counter] of dead) {
    w.varuint(table.indexOf(replica));
    w.varuint(counter);
  }
}

function writeContributions(w: Writer, entries: ReadonlyMap<number, CounterContribution>, table: ReplicaTable): void {
  w.varuint(entries.size);
  for (const [replica, e] of entries) {
    w.varuint(table.indexOf(replica as ReplicaId));
    w.varuint(e.counter);
    w.varuint(e.inc);
    w.varuint(e.dec);
  }
}

/**
 * `stateForm`: sequences go in their state form (a state snapshot; see layout.ts).
 * `fromState`: a delta of a decoded state snapshot, whose state-form stores that are
 * nothing in delta form are left out (deltaFields).
 */
export function writeStore(w: Writer, store: DotStore, table: ReplicaTable, stateForm = false, fromState = false): void {
  switch (store.type) {
    case CrdtType.Register: {
      const values = (store as RegisterStore).values;
      w.varuint(values.length);
      for (const v of values) {
        writeDot(w, v.dot, table);
        w.varuint(v.stamp.wallMs);
        w.varuint(v.stamp.logical);
        writeJson(w, v.value);
      }
      writeWatermark(w, (store as RegisterStore).dead, table);
      return;
    }
    case CrdtType.Counter: {
      const counter = store as CounterStore;
      writeContributions(w, counter.entries, table);
      writeContributions(w, counter.bases, table);
      return;
    }
    case CrdtType.Set: {
      const set = store as SetStore;
      w.varuint(set.elements.size);
      for (const e of set.elements.values()) {
        writeJson(w, e.value);
        w.varuint(e.dots.length);
        for (const d of e.dots) writeDot(w, d, table);
      }
      w.varuint(set.dead.size);
      for (const [key, dead] of set.dead) {
        w.string(key);
        writeWatermark(w, dead, table);
      }
      return;
    }
    case CrdtType.Map: {
      const fields = fromState ? deltaFields((store as MapStore).fields) : (store as MapStore).fields;
      w.varuint(fields.size);
      for (const [name, stores] of fields) {
        w.string(name);
        // One store (the usual case): its type byte. Several: 0, then the count.
        if (stores.length !== 1) {
          w.u8(0);
          w.varuint(stores.length);
        }
        for (const s of stores) {
          w.u8(s.type);
          writeStore(w, s, table, stateForm, fromState);
        }
      }
      return;
    }
    case CrdtType.Text:
    case CrdtType.List: {
      const seq = store as SequenceStore<unknown>;
      if (stateForm) {
        if (seq.seq === undefined) throw new AssertionError('a state snapshot encodes state-mode sequence stores');
        writeSequenceState(w, seq.seq);
        writeSequenceDelta(w, seq.kind, { items: seq.seq.pending, deleteDots: NO_DOTS, deletedIds: NO_DOTS });
        return;
      }
      writeSequenceDelta(w, seq.kind, sequenceDeltaOf(seq));
      return;
    }
    default:
      throw new AssertionError(`no codec for store type ${store.type}`);
  }
}

const NO_SEQUENCE_DELTA = { items: [], deleteDots: NO_DOTS, deletedIds: NO_DOTS };

/**
 * A sequence store in delta form. A state-mode store in a delta (a state snapshot a peer
 * received and now forwards to other tabs or streams) travels as its delta since nothing:
 * every item, deletion and waiting item it holds.
 */
function sequenceDeltaOf(seq: SequenceStore<unknown>): NonNullable<SequenceStore<unknown>['delta']> {
  return seq.delta ?? seq.since(NO_DOTS)?.delta ?? NO_SEQUENCE_DELTA;
}

/**
 * Whether a store is nothing in delta form. Only a state-mode text or list can be (alone or
 * in nested maps): one that holds just ids removed before they arrived, which the delta's
 * removal records carry. A delta never carries an empty store (the decoder refuses one).
 */
function emptyInDelta(store: DotStore): boolean {
  if (store.type === CrdtType.Text || store.type === CrdtType.List) {
    const seq = store as SequenceStore<unknown>;
    if (seq.delta !== undefined) return false;
    const d = sequenceDeltaOf(seq);
    return d.items.length === 0 && d.deleteDots.isEmpty;
  }
  if (store.type === CrdtType.Map) {
    for (const stores of (store as MapStore).fields.values()) if (!stores.every(emptyInDelta)) return false;
    return true;
  }
  return false;
}

/** A map's fields as a delta carries them: stores that are nothing in delta form left out. */
function deltaFields(fields: ReadonlyMap<string, readonly DotStore[]>): ReadonlyMap<string, readonly DotStore[]> {
  let kept: Map<string, readonly DotStore[]> | undefined;
  for (const [name, stores] of fields) {
    const keptStores = stores.filter((s) => !emptyInDelta(s));
    const nonEmpty = keptStores.length === stores.length ? stores : keptStores;
    if (nonEmpty !== stores && kept === undefined) {
      kept = new Map();
      for (const [n, s] of fields) {
        if (n === name) break;
        kept.set(n, s);
      }
    }
    if (kept !== undefined && nonEmpty.length > 0) kept.set(name, nonEmpty);
  }
  return kept ?? fields;
}
