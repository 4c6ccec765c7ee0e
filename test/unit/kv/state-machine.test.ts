import { describe, expect, it } from 'vitest';
import { KvStateMachine } from '../../../core/src/kv/state-machine.ts';
import { encodeSnapshot, restoreSnapshot, decodeSnapshot } from '../../../core/src/kv/snapshot.ts';
import { encodeCommand } from '../../../core/src/kv/command-codec.ts';
import type { KvCommand } from '../../../core/src/kv/commands.ts';
import { MemoryKvStorage } from '../../../core/src/testing/memory-kv-storage.ts';
import { DecodeError } from '../../../core/src/errors.ts';

const ks = 'default';
function fresh(maxSessions?: number) {
  const storage = new MemoryKvStorage();
  return { storage, sm: new KvStateMachine(storage, maxSessions === undefined ? {} : { maxSessions }) };
}

describe('KvStateMachine', () => {
  it('put sets version to the log index; get reads it back', () => {
    const { sm } = fresh();
    const out = sm.apply({ type: 'put', ks, key: 'a', value: { x: 1 } }, 5);
    expect(out.result).toEqual({ status: 'ok', version: 5 });
    expect(out.changes).toEqual([{ ks, key: 'a', version: 5, deleted: false, type: 'register', value: { x: 1 } }]);
    expect(sm.get(ks, 'a')).toEqual({ type: 'register', value: { x: 1 }, version: 5 });
    expect(sm.appliedIndex).toBe(5);
  });

  it('rejects a log index that does not advance', () => {
    const { sm } = fresh();
    sm.apply({ type: 'put', ks, key: 'a', value: 1 }, 3);
    expect(() => sm.apply({ type: 'put', ks, key: 'a', value: 2 }, 3)).toThrow(/not after applied/);
  });

  it('ifVersion: 0 means must-not-exist; a failed precondition changes nothing', () => {
    const { sm, storage } = fresh();
    expect(sm.apply({ type: 'put', ks, key: 'a', value: 1, ifVersion: 0 }, 1).result).toEqual({ status: 'ok', version: 1 });
    const before = [...storage.range({})].filter((e) => e.key.startsWith('d'));
    const failed = sm.apply({ type: 'put', ks, key: 'a', value: 2, ifVersion: 0 }, 2);
    expect(failed.result).toEqual({ status: 'conflict', key: 'a', version: 1 });
    expect(failed.changes).toEqual([]);
    expect([...storage.range({})].filter((e) => e.key.startsWith('d'))).toEqual(before);
    expect(sm.apply({ type: 'put', ks, key: 'a', value: 3, ifVersion: 1 }, 3).result).toEqual({ status: 'ok', version: 3 });
    expect(sm.apply({ type: 'put', ks, key: 'a', value: 4, ifVersion: 1 }, 4).result.status).toBe('conflict');
    expect(sm.get(ks, 'a')?.value).toBe(3);
    expect(sm.appliedIndex).toBe(4);
  });

  it('delete: not_found for a missing key, conflict on a wrong version, ok otherwise', () => {
    const { sm } = fresh();
    expect(sm.apply({ type: 'delete', ks, key: 'a' }, 1).result).toEqual({ status: 'not_found', key: 'a' });
    sm.apply({ type: 'put', ks, key: 'a', value: 1 }, 2);
    expect(sm.apply({ type: 'delete', ks, key: 'a', ifVersion: 7 }, 3).result).toEqual({ status: 'conflict', key: 'a', version: 2 });
    const del = sm.apply({ type: 'delete', ks, key: 'a', ifVersion: 2 }, 4);
    expect(del.result).toEqual({ status: 'ok', version: 4 });
    expect(del.changes).toEqual([{ ks, key: 'a', version: 4, deleted: true }]);
    expect(sm.get(ks, 'a')).toBeUndefined();
  });

  it('counters add, sets add and remove by canonical JSON, types are enforced', () => {
    const { sm } = fresh();
    expect(sm.apply({ type: 'counter', ks, key: 'c', by: 5 }, 1).result).toEqual({ status: 'ok', version: 1, value: 5 });
    expect(sm.apply({ type: 'counter', ks, key: 'c', by: -2 }, 2).result).toEqual({ status: 'ok', version: 2, value: 3 });
    const s1 = sm.apply({ type: 'set', ks, key: 's', add: [{ b: 1, a: 2 }, 'x', 'y'], remove: [] }, 3);
    expect(s1.result.status === 'ok' && s1.result.values).toEqual(['x', 'y', { b: 1, a: 2 }]);
    const s2 = sm.apply({ type: 'set', ks, key: 's', add: ['z'], remove: [{ a: 2, b: 1 }, 'x'] }, 4);
    expect(s2.result.status === 'ok' && s2.result.values).toEqual(['y', 'z']);
    expect(sm.apply({ type: 'counter', ks, key: 's', by: 1 }, 5).result).toEqual({ status: 'type_mismatch', key: 's', actual: 'set' });
    expect(sm.apply({ type: 'set', ks, key: 'c', add: [1], remove: [] }, 6).result).toEqual({ status: 'type_mismatch', key: 'c', actual: 'counter' });
    expect(sm.get(ks, 'c')).toEqual({ type: 'counter', value: 3, version: 2 });
  });

  it('keyspaces are separate', () => {
    const { sm } = fresh();
    sm.apply({ type: 'put', ks: 'one', key: 'k', value: 1 }, 1);
    expect(sm.get('two', 'k')).toBeUndefined();
    expect(sm.get('one', 'k')?.value).toBe(1);
  });

  it('batch: all or nothing, gets see earlier ops, every write gets the batch index', () => {
    const { sm } = fresh();
    sm.apply({ type: 'put', ks, key: 'a', value: 'old' }, 1);
    const ok = sm.apply(
      {
        type: 'batch',
        ks,
        ops: [
          { op: 'put', key: 'a', value: 'new', ifVersion: 1 },
          { op: 'get', key: 'a' },
          { op: 'delete', key: 'missing' },
          { op: 'put', key: 'b', value: 2, ifVersion: 0 },
        ],
      },
      2,
    );
    expect(ok.result).toEqual({
      status: 'ok',
      version: 2,
      results: [
        { op: 'put', key: 'a', version: 2 },
        { op: 'get', key: 'a', found: true, type: 'register', value: 'new', version: 2 },
        { op: 'delete', key: 'missing', found: false, version: 2 },
        { op: 'put', key: 'b', version: 2 },
      ],
    });
    const failed = sm.apply(
      { type: 'batch', ks, ops: [{ op: 'put', key: 'c', value: 1 }, { op: 'delete', key: 'a' }, { op: 'get', key: 'b', ifVersion: 1 }] },
      3,
    );
    expect(failed.result).toEqual({ status: 'conflict', key: 'b', version: 2 });
    expect(sm.get(ks, 'c')).toBeUndefined();
    expect(sm.get(ks, 'a')?.value).toBe('new');
  });

  it('a failed batch inside an apply batch leaves the earlier commands\' writes as they were', () => {
    const { sm } = fresh();
    const out = sm.applyBatch([
      { index: 1, command: { type: 'put', ks, key: 'a', value: 'first' } },
      { index: 2, command: { type: 'put', ks, key: 'b', value: 'first' } },
      {
        index: 3,
        command: {
          type: 'batch',
          ks,
          ops: [
            { op: 'put', key: 'a', value: 'lost' },
            { op: 'put', key: 'a', value: 'lost again' },
            { op: 'delete', key: 'b' },
            { op: 'put', key: 'c', value: 'lost' },
            { op: 'put', key: 'd', value: 'x', ifVersion: 9 },
          ],
        },
      },
      { index: 4, command: { type: 'put', ks, key: 'a', value: 'second', ifVersion: 1 } },
    ]);
    expect(out.map((o) => o.result.status)).toEqual(['ok', 'ok', 'conflict', 'ok']);
    expect(out[2]!.changes).toEqual([]);
    expect(sm.get(ks, 'a')).toEqual({ type: 'register', value: 'second', version: 4 });
    expect(sm.get(ks, 'b')).toEqual({ type: 'register', value: 'first', version: 2 });
    expect(sm.get(ks, 'c')).toBeUndefined();
  });

  it('a retried session request returns its first answer and applies once', () => {
    const { sm } = fresh();
    const session = { clientId: 'cli-1', seq: 7 };
    const first = sm.apply({ type: 'counter', ks, key: 'n', by: 1, session }, 1);
    const again = sm.apply({ type: 'counter', ks, key: 'n', by: 1, session }, 2);
    expect(again.result).toEqual(first.result);
    expect(again.duplicate).toBe(true);
    expect(again.changes).toEqual([]);
    expect(sm.get(ks, 'n')?.value).toBe(1);
    expect(sm.appliedIndex).toBe(2);
    // A failed precondition's answer is remembered too.
    const c1 = sm.apply({ type: 'put', ks, key: 'n', value: 0, ifVersion: 0, session: { clientId: 'cli-1', seq: 8 } }, 3);
    sm.apply({ type: 'delete', ks, key: 'n' }, 4);
    const c2 = sm.apply({ type: 'put', ks, key: 'n', value: 0, ifVersion: 0, session: { clientId: 'cli-1', seq: 8 } }, 5);
    expect(c2.result).toEqual(c1.result);
    expect(sm.get(ks, 'n')).toBeUndefined();
  });

  it('the session table is bounded and evicts the oldest answer first', () => {
    const { sm, storage } = fresh(3);
    for (let i = 1; i <= 5; i++) sm.apply({ type: 'counter', ks, key: 'n', by: 1, session: { clientId: 'c', seq: i } }, i);
    expect(sm.sessionCount).toBe(3);
    expect([...storage.range({ gte: 's', lt: 't' })].length).toBe(3);
    // seq 1 was evicted: its retry applies again (documented); seq 5 is still answered once.
    expect(sm.apply({ type: 'counter', ks, key: 'n', by: 1, session: { clientId: 'c', seq: 5 } }, 6).duplicate).toBe(true);
    expect(sm.apply({ type: 'counter', ks, key: 'n', by: 1, session: { clientId: 'c', seq: 1 } }, 7).duplicate).toBe(false);
    expect(sm.get(ks, 'n')?.value).toBe(6);
    // Reopening over the same storage rebuilds the same eviction order.
    const reopened = new KvStateMachine(storage, { maxSessions: 3 });
    expect(reopened.appliedIndex).toBe(7);
    expect(reopened.sessionCount).toBe(3);
    reopened.apply({ type: 'counter', ks, key: 'n', by: 1, session: { clientId: 'd', seq: 1 } }, 8);
    expect([...storage.range({ gte: 's', lt: 't' })].map((e) => e.key.replace('\u0000', '/'))).toEqual(['sc/1', 'sc/5', 'sd/1']);
  });

  it('snapshot round-trips the whole state into another replica', () => {
    const { sm, storage } = fresh();
    sm.apply({ type: 'put', ks, key: 'a:1', value: [1, 'two'] }, 1);
    sm.apply({ type: 'counter', ks, key: 'c', by: 9, session: { clientId: 'x', seq: 1 } }, 2);
    sm.apply({ type: 'set', ks: 'other', key: 's', add: [true], remove: [] }, 3);
    const snap = encodeSnapshot(storage, sm.appliedIndex);
    const target = fresh();
    target.sm.apply({ type: 'put', ks, key: 'stale', value: 1 }, 1);
    restoreSnapshot(target.sm, target.storage, snap);
    expect(target.sm.appliedIndex).toBe(3);
    expect(target.sm.get(ks, 'stale')).toBeUndefined();
    expect(target.sm.get(ks, 'a:1')).toEqual(sm.get(ks, 'a:1'));
    expect(target.sm.get('other', 's')).toEqual(sm.get('other', 's'));
    expect(target.sm.apply({ type: 'counter', ks, key: 'c', by: 9, session: { clientId: 'x', seq: 1 } }, 4).duplicate).toBe(true);
    expect(encodeSnapshot(target.storage, 3)).toEqual(snap);
  });

  it('rejects a corrupt snapshot before touching the state', () => {
    const { sm, storage } = fresh();
    sm.apply({ type: 'put', ks, key: 'a', value: 1 }, 1);
    const snap = encodeSnapshot(storage, 1);
    const bad = snap.slice();
    bad[bad.length - 1] = 0xff; // the entry's JSON tag
    expect(() => decodeSnapshot(bad)).toThrow(DecodeError);
    const target = fresh();
    target.sm.apply({ type: 'put', ks, key: 'keep', value: 1 }, 1);
    expect(() => restoreSnapshot(target.sm, target.storage, bad)).toThrow(DecodeError);
    expect(target.sm.get(ks, 'keep')?.value).toBe(1);
  });

  it('applyEncoded decodes log bytes; skip() advances over non-command entries', () => {
    const { sm } = fresh();
    const cmd: KvCommand = { type: 'put', ks, key: 'k', value: 'v' };
    sm.applyEncoded(encodeCommand(cmd), 1);
    sm.skipEntry(2);
    expect(sm.appliedIndex).toBe(2);
    expect(sm.get(ks, 'k')?.version).toBe(1);
    expect(() => sm.applyEncoded(new Uint8Array([9, 9]), 3)).toThrow(DecodeError);
    expect(sm.appliedIndex).toBe(2);
  });

  it('scan lists a keyspace prefix in order', () => {
    const { sm } = fresh();
    let i = 1;
    for (const k of ['user:b', 'user:a', 'users', 'user;', 'x']) sm.apply({ type: 'put', ks, key: k, value: k }, i++);
    expect([...sm.scan(ks, 'user:')].map((e) => e.key)).toEqual(['user:a', 'user:b']);
    expect([...sm.scan(ks, 'user', 2)].map((e) => e.key)).toEqual(['user:a', 'user:b']);
  });
});
