// The origin's KeyspaceSource over committed crdt commands: reads by position, drops old
// entries past its byte bound, and after a state is replaced underneath it (snapshot
// restore) serves what the restored tail records hold (committed-source-resume.test.ts has
// the stored-tail cases).
import { describe, expect, it } from 'vitest';
import type { ReplicaId } from '../../../core/src/clock/replica-id.ts';
import { Replica } from '../../../core/src/doc/replica.ts';
import { MAX_CRDT_DELTAS } from '../../../core/src/kv/command-codec.ts';
import { encodeSnapshot, restoreSnapshot } from '../../../core/src/kv/snapshot.ts';
import { KvStateMachine } from '../../../core/src/kv/state-machine.ts';
import { MemoryKvStorage } from '../../../core/src/testing/memory-kv-storage.ts';
import { CommittedKeyspaceSource, EMPTY_LOG_ID } from '../../../server/src/sync/committed-keyspace-source.ts';
import { stateOf } from '../../support/sync-harness.ts';

function changes(n: number): Uint8Array[] {
  const r = new Replica({ replicaId: 9 as ReplicaId, keyspace: 'ks' });
  const out: Uint8Array[] = [];
  r.onLocalDelta((d) => out.push(r.encodeDelta(d)));
  for (let i = 0; i < n; i++) r.put(`k${i}`, 'x'.repeat(100));
  return out;
}

describe('CommittedKeyspaceSource', () => {
  it('serves committed entries by position and compacts past its bound', () => {
    const sm = new KvStateMachine(new MemoryKvStorage());
    const source = new CommittedKeyspaceSource(sm, 'ks', 500);
    sm.onCrdtApplied((a) => source.append(a.entries));
    expect(source.head()).toBe(0);
    expect(source.logId).toBe(EMPTY_LOG_ID);
    const bytes = changes(8);
    for (let i = 0; i < 8; i++) sm.apply({ type: 'crdt', ks: 'ks', deltas: [{ origin: 9, bytes: bytes[i]! }] }, i + 1);
    expect(source.logId).toMatch(/^ks@1\.[0-9a-f]{8}$/);
    expect(source.head()).toBe(8 * MAX_CRDT_DELTAS);
    // About 120 bytes each, bound 500: only the newest few are kept.
    const kept = source.read(source.compactedThrough(), 1 << 20, 100);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(8);
    expect(kept[kept.length - 1]!.position).toBe(source.head());
    expect(source.compactedThrough()).toBe(kept[0]!.position - MAX_CRDT_DELTAS);
    expect(source.read(source.head(), 1 << 20, 100)).toEqual([]);
    expect(source.read(source.compactedThrough(), 1, 100)).toHaveLength(1); // at least one
    const snap = source.snapshot();
    expect(snap.position).toBe(source.head());
    expect(stateOf(Replica.decode(snap.bytes, { replicaId: 1 as ReplicaId, keyspace: 'ks' }))).toEqual(stateOf(sm.crdtKeyspace('ks')!.replica));
  });

  it('serves a replaced state (snapshot restore) from its stored tail, not from memory', () => {
    const storage = new MemoryKvStorage();
    const sm = new KvStateMachine(storage);
    const source = new CommittedKeyspaceSource(sm, 'ks');
    sm.onCrdtApplied((a) => source.append(a.entries));
    const bytes = changes(3);
    sm.apply({ type: 'crdt', ks: 'ks', deltas: [{ origin: 9, bytes: bytes[0]! }] }, 1);
    const other = new MemoryKvStorage();
    const sm2 = new KvStateMachine(other);
    sm2.apply({ type: 'crdt', ks: 'ks', deltas: [{ origin: 9, bytes: bytes[0]! }, { origin: 9, bytes: bytes[1]! }] }, 1);
    sm2.apply({ type: 'crdt', ks: 'ks', deltas: [{ origin: 9, bytes: bytes[2]! }] }, 5);
    restoreSnapshot(sm, storage, encodeSnapshot(other, sm2.appliedIndex));
    expect(source.head()).toBe(5 * MAX_CRDT_DELTAS);
    // The restored base stands at the second delta of index 1; the tail after it holds index 5.
    expect(source.compactedThrough()).toBe(MAX_CRDT_DELTAS + 1);
    expect(source.read(source.compactedThrough(), 1 << 20, 10)).toEqual([{ position: 5 * MAX_CRDT_DELTAS, bytes: bytes[2]!, origin: 9 }]);
    expect(source.read(source.head(), 1 << 20, 10)).toEqual([]);
  });
});
