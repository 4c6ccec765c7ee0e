// The replicated `crdt` command: codec round trip and limits, joining in log order with
// resends skipped, log positions per delta, the listener after storage, and snapshots.
import { describe, expect, it } from 'vitest';
import type { ReplicaId } from '../../../core/src/clock/replica-id.ts';
import { Replica } from '../../../core/src/doc/replica.ts';
import { DecodeError } from '../../../core/src/errors.ts';
import { decodeCommand, encodeCommand, MAX_CRDT_DELTAS } from '../../../core/src/kv/command-codec.ts';
import { type CrdtApplied, newLogId } from '../../../core/src/kv/crdt-keyspaces.ts';
import { KvLimitError } from '../../../core/src/kv/errors.ts';
import { decodeSnapshot, encodeSnapshot, restoreSnapshot } from '../../../core/src/kv/snapshot.ts';
import { KvStateMachine } from '../../../core/src/kv/state-machine.ts';
import { MemoryKvStorage } from '../../../core/src/testing/memory-kv-storage.ts';
import { stateOf } from '../../support/sync-harness.ts';

function deltas(id: number, ops: (r: Replica) => void): { replica: Replica; bytes: Uint8Array[] } {
  const replica = new Replica({ replicaId: id as ReplicaId, keyspace: 'docs' });
  const bytes: Uint8Array[] = [];
  replica.onLocalDelta((d) => bytes.push(replica.encodeDelta(d)));
  ops(replica);
  return { replica, bytes };
}

describe('crdt command codec', () => {
  it('round-trips and validates', () => {
    const { bytes } = deltas(7, (r) => r.put('a', 1));
    const cmd = { type: 'crdt', ks: 'docs', deltas: [{ origin: 7, bytes: bytes[0]! }] } as const;
    const back = decodeCommand(encodeCommand(cmd));
    expect(back).toEqual(cmd);
    expect(() => encodeCommand({ type: 'crdt', ks: 'docs', deltas: [] })).toThrow(KvLimitError);
    const many = Array.from({ length: MAX_CRDT_DELTAS + 1 }, () => ({ origin: 7, bytes: bytes[0]! }));
    expect(() => encodeCommand({ type: 'crdt', ks: 'docs', deltas: many })).toThrow(KvLimitError);
    expect(() => encodeCommand({ type: 'crdt', ks: 'docs', deltas: [{ origin: 0, bytes: bytes[0]! }] })).toThrow(KvLimitError);
    const enc = encodeCommand(cmd);
    expect(() => decodeCommand(enc.subarray(0, enc.length - 1))).toThrow(DecodeError);
  });
});

describe('crdt keyspaces in the state machine', () => {
  it('joins deltas in log order, skips resends and bad deltas, and tells listeners after storing', () => {
    const storage = new MemoryKvStorage();
    const sm = new KvStateMachine(storage);
    const seen: CrdtApplied[] = [];
    sm.onCrdtApplied((a) => {
      // Listeners run after the batch is stored: the record is already there.
      expect(storage.get('cdocs')).toBeDefined();
      seen.push(a);
    });
    const a = deltas(11, (r) => {
      r.put('title', 'hello');
      r.counter('views').increment(2);
    });
    const b = deltas(12, (r) => r.set('tags').add('x'));
    const out = sm.applyBatch([
      { index: 1, command: { type: 'crdt', ks: 'docs', deltas: [{ origin: 11, bytes: a.bytes[0]! }, { origin: 12, bytes: b.bytes[0]! }] } },
      { index: 2, command: { type: 'put', ks: 'docs', key: 'plain', value: 1 } },
      { index: 3, command: { type: 'crdt', ks: 'docs', deltas: [{ origin: 11, bytes: a.bytes[0]! }, { origin: 11, bytes: new Uint8Array([1, 2, 3]) }, { origin: 11, bytes: a.bytes[1]! }] } },
    ]);
    expect(out.map((o) => o.result.status)).toEqual(['ok', 'ok', 'ok']);
    const ks = sm.crdtKeyspace('docs')!;
    expect(ks.logId).toBe(newLogId('docs', 1, a.bytes[0]!));
    expect(ks.position).toBe(3 * MAX_CRDT_DELTAS + 2);
    expect(seen.map((a) => a.ks)).toEqual(['docs', 'docs']); // one per command
    expect(seen.flatMap((a) => a.entries).map((e) => [e.position, e.origin])).toEqual([
      [MAX_CRDT_DELTAS, 11],
      [MAX_CRDT_DELTAS + 1, 12],
      [3 * MAX_CRDT_DELTAS + 2, 11],
    ]);
    const expected = new Replica({ replicaId: 99 as ReplicaId, keyspace: 'docs' });
    for (const d of [...a.bytes, ...b.bytes]) expected.applyDelta(d);
    expect(stateOf(ks.replica)).toEqual(stateOf(expected));
    // The kv key space is untouched by crdt keyspaces and vice versa.
    expect(sm.get('docs', 'plain')?.value).toBe(1);
    expect(sm.crdtKeyspace('other')).toBeUndefined();

    // A fresh state machine over the same storage reads the replica back.
    const again = new KvStateMachine(storage);
    expect(stateOf(again.crdtKeyspace('docs')!.replica)).toEqual(stateOf(expected));
    expect(again.crdtKeyspace('docs')!.position).toBe(ks.position);
  });

  it('travels in snapshots', () => {
    const storage = new MemoryKvStorage();
    const sm = new KvStateMachine(storage);
    const a = deltas(5, (r) => r.map('m').set('f', 'v'));
    sm.apply({ type: 'crdt', ks: 'k1', deltas: [{ origin: 5, bytes: a.bytes[0]! }] }, 4);
    const snap = encodeSnapshot(storage, sm.appliedIndex);
    expect(decodeSnapshot(snap).records.some((r) => r.key === 'ck1')).toBe(true);
    const other = new MemoryKvStorage();
    const sm2 = new KvStateMachine(other);
    sm2.apply({ type: 'crdt', ks: 'k1', deltas: [{ origin: 6, bytes: deltas(6, (r) => r.put('z', 1)).bytes[0]! }] }, 1);
    restoreSnapshot(sm2, other, snap);
    expect(stateOf(sm2.crdtKeyspace('k1')!.replica)).toEqual(stateOf(a.replica));
    expect(sm2.crdtKeyspace('k1')!.logId).toMatch(/^k1@4\.[0-9a-f]{8}$/);
  });

  it('a first command whose deltas are all skipped creates no keyspace: a node restarted before the next gets the same log id', () => {
    const good = deltas(8, (r) => r.put('k', 1)).bytes[0]!;
    const bad = { type: 'crdt', ks: 'late', deltas: [{ origin: 8, bytes: new Uint8Array([1, 2, 3]) }] } as const;
    const next = { type: 'crdt', ks: 'late', deltas: [{ origin: 8, bytes: good }] } as const;
    const steady = new KvStateMachine(new MemoryKvStorage());
    steady.apply(bad, 2);
    expect(steady.crdtKeyspace('late')).toBeUndefined();
    steady.apply(next, 5);
    const storage = new MemoryKvStorage();
    new KvStateMachine(storage).apply(bad, 2);
    const restarted = new KvStateMachine(storage);
    restarted.apply(next, 5);
    expect(steady.crdtKeyspace('late')!.logId).toBe(newLogId('late', 5, good));
    expect(restarted.crdtKeyspace('late')!.logId).toBe(newLogId('late', 5, good));
  });

  it('two fresh clusters whose first commits share a Raft index give the keyspace different log ids', () => {
    const first = (id: number): KvStateMachine => {
      const sm = new KvStateMachine(new MemoryKvStorage());
      sm.apply({ type: 'crdt', ks: 'docs', deltas: [{ origin: id, bytes: deltas(id, (r) => r.put('k', 1)).bytes[0]! }] }, 3);
      return sm;
    };
    const [a, b] = [first(21), first(22)];
    expect(a.crdtKeyspace('docs')!.logId).toMatch(/^docs@3\./);
    expect(b.crdtKeyspace('docs')!.logId).toMatch(/^docs@3\./);
    expect(a.crdtKeyspace('docs')!.logId).not.toBe(b.crdtKeyspace('docs')!.logId);
  });
});
