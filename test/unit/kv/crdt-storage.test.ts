// How a keyspace's replica is stored: a base record plus a tail of delta records (with each
// delta's origin, read back as the sync log after the base), so an apply
// batch writes bytes in proportion to its deltas, not to the keyspace's whole state; the tail
// is folded into a new base once it outgrows it; restarts and snapshots see the same replica.
import { describe, expect, it } from 'vitest';
import type { ReplicaId } from '../../../core/src/clock/replica-id.ts';
import { Replica } from '../../../core/src/doc/replica.ts';
import { Writer } from '../../../core/src/codec/writer.ts';
import { MAX_CRDT_DELTAS } from '../../../core/src/kv/command-codec.ts';
import { CRDT_TAIL_PREFIX, crdtTailKey, decodeCrdtTail, encodeCrdtTail } from '../../../core/src/kv/crdt-tail.ts';
import { encodeSnapshot, restoreSnapshot } from '../../../core/src/kv/snapshot.ts';
import { KvStateMachine } from '../../../core/src/kv/state-machine.ts';
import type { StorageOp } from '../../../core/src/kv/storage.ts';
import { MemoryKvStorage } from '../../../core/src/testing/memory-kv-storage.ts';
import { stateOf } from '../../support/sync-harness.ts';

/** Counts the bytes each batch puts. */
class CountingStorage extends MemoryKvStorage {
  lastBatchBytes = 0;
  override batch(ops: readonly StorageOp[]): void {
    this.lastBatchBytes = 0;
    for (const op of ops) if (op.type === 'put') this.lastBatchBytes += op.key.length + op.value.length;
    super.batch(ops);
  }
}

/** A client replica of `ks` whose changes gather, encoded, in `pending`. */
function clientOf(ks: string): { client: Replica; pending: Uint8Array[] } {
  const client = new Replica({ replicaId: 21 as ReplicaId, keyspace: ks });
  const pending: Uint8Array[] = [];
  client.onLocalDelta((d) => pending.push(client.encodeDelta(d)));
  return { client, pending };
}

const tailKeys = (s: MemoryKvStorage): number => [...s.range({})].filter((e) => e.key.startsWith(CRDT_TAIL_PREFIX)).length;

describe('crdt keyspace storage', () => {
  it('writes per batch in proportion to its deltas, folds the tail, and reads back the same replica', () => {
    const storage = new CountingStorage();
    const sm = new KvStateMachine(storage);
    const { client, pending } = clientOf('big');
    let index = 0;
    const commit = (): void => {
      sm.applyBatch([{ index: ++index, command: { type: 'crdt', ks: 'big', deltas: pending.splice(0).map((bytes) => ({ origin: 21, bytes })) } }]);
    };
    // A large state: 3,000 keys with 40-byte values, in batches of 100.
    for (let b = 0; b < 30; b++) {
      for (let i = 0; i < 100; i++) client.put(`key-${b}-${i}`, 'x'.repeat(40));
      commit();
    }
    const stateBytes = client.encode().length;
    expect(stateBytes).toBeGreaterThan(100_000);
    // One small change now costs about its own size, not the state's.
    let maxSmall = 0;
    for (let i = 0; i < 200; i++) {
      client.put(`key-0-${i % 100}`, i);
      commit();
      maxSmall = Math.max(maxSmall, storage.lastBatchBytes);
    }
    // Most small batches write a tail record; the few that fold the tail rewrite the base.
    let small = 0;
    for (let i = 0; i < 50; i++) {
      client.counter('c').increment(1);
      commit();
      if (storage.lastBatchBytes < 1_000) small++;
    }
    expect(small).toBeGreaterThanOrEqual(48);
    expect(maxSmall).toBeLessThan(stateBytes + 1_000);
    expect(tailKeys(storage)).toBeLessThan(1_000);

    const ks = sm.crdtKeyspace('big')!;
    expect(stateOf(ks.replica)).toEqual(stateOf(client));
    // Restart: base + tail give the same replica and position.
    const again = new KvStateMachine(storage);
    expect(stateOf(again.crdtKeyspace('big')!.replica)).toEqual(stateOf(client));
    expect(again.crdtKeyspace('big')!.position).toBe(ks.position);
    // And a snapshot carries the tail along.
    const other = new MemoryKvStorage();
    const sm2 = new KvStateMachine(other);
    restoreSnapshot(sm2, other, encodeSnapshot(storage, sm.appliedIndex));
    expect(stateOf(sm2.crdtKeyspace('big')!.replica)).toEqual(stateOf(client));
    expect(sm2.crdtKeyspace('big')!.position).toBe(ks.position);
    // Applying more after the restart continues the same tail.
    client.put('late', 1);
    const late = pending.splice(0);
    again.applyBatch([{ index: index + 1, command: { type: 'crdt', ks: 'big', deltas: late.map((bytes) => ({ origin: 21, bytes })) } }]);
    expect(new KvStateMachine(storage).crdtKeyspace('big')!.replica.get('late')).toBe(1);
  });

  it('keeps each delta with its origin in the tail, reads it back in pages, and still decodes v1 records', () => {
    const storage = new MemoryKvStorage();
    const sm = new KvStateMachine(storage);
    const { client, pending } = clientOf('ks');
    for (let i = 1; i <= 4; i++) {
      client.put(`k${i}`, i);
      client.put(`j${i}`, i);
      sm.apply({ type: 'crdt', ks: 'ks', deltas: pending.splice(0).map((bytes, j) => ({ origin: 20 + j, bytes })) }, i);
    }
    // Index 1 is the base; indexes 2-4 are tail records of two deltas each.
    const base = MAX_CRDT_DELTAS + 1;
    expect(sm.crdtLogStart('ks')).toBe(base);
    const all = sm.readCrdtLog('ks', base, 1 << 20, 100);
    expect(all.map((d) => [d.position, d.origin])).toEqual([2, 3, 4].flatMap((i) => [[i * MAX_CRDT_DELTAS, 20], [i * MAX_CRDT_DELTAS + 1, 21]]));
    expect(sm.readCrdtLog('ks', base, 1, 100)).toEqual(all.slice(0, 1)); // at least one
    expect(sm.readCrdtLog('ks', all[0]!.position, 1 << 20, 3)).toEqual(all.slice(1, 4));
    expect(sm.readCrdtLog('ks', sm.crdtKeyspace('ks')!.position, 1 << 20, 100)).toEqual([]);
    // Bounded by bytes: only the newest records that fit are offered.
    const one = storage.get(crdtTailKey('ks', 4 * MAX_CRDT_DELTAS))!.length;
    expect(sm.crdtLogStart('ks', one)).toBe(3 * MAX_CRDT_DELTAS + 1);
    expect(sm.crdtLogStart('ks', one - 1)).toBe(4 * MAX_CRDT_DELTAS + 1);
    expect(() => sm.readCrdtLog('ks', base - 1, 1 << 20, 100)).toThrow(/stored log starts/);

    // A v1 record (no origins), as earlier versions wrote them.
    const w = new Writer();
    w.u8(1);
    w.varuint(2);
    for (const d of all.slice(0, 2)) {
      w.varuint(d.position);
      w.bytes(d.bytes);
    }
    expect(decodeCrdtTail(w.finish())).toEqual(all.slice(0, 2).map((d) => ({ ...d, origin: undefined })));
    expect(decodeCrdtTail(encodeCrdtTail(all as { position: number; bytes: Uint8Array; origin: ReplicaId }[]))).toEqual(all);
  });
});
