// A client that fails over to a node that has not applied the last entries it saw elsewhere
// (its cursor is past this node's head) is not answered with a snapshot at once: its hello
// waits until the node applied the entry its cursor names, then it is resumed by log. A
// cursor that names entries that may never come waits a bounded time; another log's cursor
// does not wait.
import { describe, expect, it } from 'vitest';
import type { ReplicaId } from '../../../core/src/clock/replica-id.ts';
import { Replica } from '../../../core/src/doc/replica.ts';
import { MAX_CRDT_DELTAS } from '../../../core/src/kv/command-codec.ts';
import { encodeSnapshot, restoreSnapshot } from '../../../core/src/kv/snapshot.ts';
import { type IndexedCommand, KvStateMachine } from '../../../core/src/kv/state-machine.ts';
import { decodeMessage, encodeMessage } from '../../../core/src/sync/codec.ts';
import { SYNC_PROTOCOL_VERSION, type SyncMessage } from '../../../core/src/sync/messages.ts';
import { MemoryKvStorage } from '../../../core/src/testing/memory-kv-storage.ts';
import { OriginSync } from '../../../server/src/sync/origin-sync.ts';

/** Six committed crdt entries of one author, as every node applies them. */
function history(): IndexedCommand[] {
  const r = new Replica({ replicaId: 5 as ReplicaId, keyspace: 'ks' });
  const out: Uint8Array[] = [];
  r.onLocalDelta((d) => out.push(r.encodeDelta(d)));
  const entries: IndexedCommand[] = [];
  for (let i = 1; i <= 6; i++) {
    r.put(`k${i}`, i);
    entries.push({ index: i, command: { type: 'crdt', ks: 'ks', deltas: [{ origin: 5, bytes: out.splice(0)[0]! }] } });
  }
  return entries;
}

/** A node that applied only the first `applied` entries, and a client connection to it. */
function laggingNode(applied: number, catchUpWaitMs: number): { sm: KvStateMachine; storage: MemoryKvStorage; sync: OriginSync; received: SyncMessage[]; hello: (logId: string, position: number, channel?: number) => void } {
  const storage = new MemoryKvStorage();
  const sm = new KvStateMachine(storage);
  for (const e of history().slice(0, applied)) sm.applyBatch([e]); // a base record, then a tail
  const sync = new OriginSync({ node: { stateMachine: sm, propose: () => Promise.reject(new Error('no writes in this test')) }, catchUpWaitMs });
  const received: SyncMessage[] = [];
  const conn = sync.open({ send: (f) => received.push(decodeMessage(f)), close: () => {} });
  const hello = (logId: string, position: number, channel = 1): void =>
    conn.receive(encodeMessage({ type: 'hello', channel, version: SYNC_PROTOCOL_VERSION, keyspace: 'ks', replica: 9 as ReplicaId, token: '', resume: { mode: 'cursor', logId, position }, transfer: undefined }));
  return { sm, storage, sync, received, hello };
}

describe('origin sync: a cursor past what this node applied', () => {
  it('waits until the node applied the entry, then resumes by log', () => {
    const ahead = new KvStateMachine(new MemoryKvStorage());
    ahead.applyBatch(history());
    const { logId, position } = ahead.crdtKeyspace('ks')!;
    const node = laggingNode(3, 60_000);
    node.hello(logId, position);
    expect(node.received).toEqual([]); // no welcome (and no snapshot) yet
    node.sm.applyBatch(history().slice(3, 5));
    expect(node.received).toEqual([]); // index 5 is not the cursor's 6
    node.sm.applyBatch(history().slice(5));
    expect(node.received.find((m) => m.type === 'welcome')).toMatchObject({ mode: 'log', logId, head: position });
    expect(node.received.filter((m) => m.type === 'chunk' || m.type === 'delta')).toEqual([]);
    expect(node.sync.welcomes).toEqual({ log: 1, snapshot: 0, context: 0 });
    node.sync.close();
  });

  it('welcomes a held hello as soon as a snapshot restore carries the node past its cursor', () => {
    const aheadStorage = new MemoryKvStorage();
    const ahead = new KvStateMachine(aheadStorage);
    ahead.applyBatch(history());
    const { logId, position } = ahead.crdtKeyspace('ks')!;
    const node = laggingNode(3, 60_000);
    node.hello(logId, position);
    expect(node.received).toEqual([]);
    // The node installs the leader's snapshot (index 6) instead of applying entries 4-6.
    restoreSnapshot(node.sm, node.storage, encodeSnapshot(aheadStorage, ahead.appliedIndex));
    node.sync.reset();
    expect(node.received.find((m) => m.type === 'welcome')).toBeDefined(); // not after the 60 s wait
    node.sync.close();
  });

  it('answers a cursor that names entries that never come after the wait, with a snapshot', async () => {
    // This node has not started the keyspace's log: the cursor's entries may yet come, or never.
    const node = laggingNode(0, 30);
    node.hello('ks@1.00000000', 1000 * MAX_CRDT_DELTAS);
    expect(node.received).toEqual([]);
    for (let i = 0; i < 100 && node.received.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(node.received.find((m) => m.type === 'welcome')).toMatchObject({ mode: 'snapshot' });
    node.sync.close();
  });

  it('answers a cursor of another log at once, with a snapshot, however far ahead it claims to be', () => {
    const node = laggingNode(6, 60_000);
    node.hello('ks@1.00000000', 1000 * MAX_CRDT_DELTAS);
    expect(node.received.find((m) => m.type === 'welcome')).toMatchObject({ mode: 'snapshot' });
    // A cursor of this log that the node has applied is answered at once too, by log.
    node.hello(node.sm.crdtKeyspace('ks')!.logId, 3 * MAX_CRDT_DELTAS, 3);
    expect(node.received.filter((m) => m.type === 'welcome').at(-1)).toMatchObject({ mode: 'log', channel: 3 });
    node.sync.close();
  });
});
