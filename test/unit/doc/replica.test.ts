// The Replica: typed handles, events and pattern subscriptions, the sync pair,
// snapshots, and its errors.
import { describe, expect, it } from 'vitest';
import type { ReplicaId } from '../../../core/src/clock/replica-id.ts';
import { DecodeError, InvalidArgumentError, TypeMismatchError } from '../../../core/src/errors.ts';
import { type ChangeEvent, Replica } from '../../../core/src/doc/replica.ts';

const make = (id: number) => new Replica({ replicaId: id as ReplicaId, now: () => 1_700_000_000_000 });

function syncBoth(a: Replica, b: Replica): void {
  b.applyDelta(a.deltaSince(b.contextOf()));
  a.applyDelta(b.deltaSince(a.contextOf()));
}

describe('Replica', () => {
  it('holds registers, counters, sets and maps under keys', () => {
    const r = make(1);
    r.put('title', 'Hello');
    r.counter('views').increment(3);
    r.set('tags').add('crdt');
    r.map('user:1').set('name', 'Ada');
    r.map('user:1').counter('logins').increment();
    expect(r.get('title')).toBe('Hello');
    expect(r.counter('views').value).toBe(3);
    expect(r.set('tags').values()).toEqual(['crdt']);
    expect(r.map('user:1').value()).toEqual({ name: 'Ada', logins: 1 });
    expect(r.keys().sort()).toEqual(['tags', 'title', 'user:1', 'views']);
    expect(r.keys('user:')).toEqual(['user:1']);
    expect(r.typeOf('views')).toBe('counter');
    r.delete('views');
    expect(r.has('views')).toBe(false);
    expect(r.size).toBe(3);
  });

  it('syncs two replicas with contextOf / deltaSince / applyDelta, and over bytes', () => {
    const a = make(1);
    const b = make(2);
    a.put('k', 1);
    b.counter('c').increment(2);
    a.counter('c').increment(5);
    syncBoth(a, b);
    expect(b.get('k')).toBe(1);
    expect(a.counter('c').value).toBe(7);
    expect(b.counter('c').value).toBe(7);
    const bytes = a.encodeDelta(a.set('s').add('x'));
    b.applyDelta(bytes);
    expect(b.set('s').has('x')).toBe(true);
  });

  it('resuming costs what is missing: deltaSince a peer that is up to date is empty', () => {
    const a = make(1);
    const b = make(2);
    for (let i = 0; i < 100; i++) a.put(`k${i}`, i);
    syncBoth(a, b);
    const d = a.deltaSince(b.contextOf());
    expect(d.store).toBeUndefined();
    expect(d.removals).toHaveLength(0);
    a.put('k5', 'changed');
    const d2 = a.deltaSince(b.contextOf());
    expect([...d2.store!.fields.keys()]).toEqual(['k5']);
  });

  it('emits change events to matching subscriptions (`*`, `prefix*`, exact key)', () => {
    const a = make(1);
    const b = make(2);
    const all: string[] = [];
    const users: ChangeEvent[] = [];
    const exact: string[] = [];
    b.subscribe('*', (e) => all.push(e.key));
    b.subscribe('user:*', (e) => users.push(e));
    b.subscribe('title', (e) => exact.push(String(e.value)));
    a.put('user:1', 'Ada');
    a.put('title', 'T');
    a.put('other', 1);
    b.applyDelta(a.deltaSince(b.contextOf()));
    expect(all.sort()).toEqual(['other', 'title', 'user:1']);
    expect(users.map((e) => [e.key, e.value, e.origin])).toEqual([['user:1', 'Ada', 'remote']]);
    expect(exact).toEqual(['T']);
    const unsubscribe = b.subscribe('title', (e) => exact.push(`again ${String(e.value)}`));
    unsubscribe();
    const local: ChangeEvent[] = [];
    b.subscribe('gone', (e) => local.push(e));
    b.put('gone', 1);
    b.delete('gone');
    expect(local.map((e) => [e.deleted, e.origin])).toEqual([
      [false, 'local'],
      [true, 'local'],
    ]);
  });

  it('hands every local delta to onLocalDelta listeners (what shells persist and send)', () => {
    const a = make(1);
    const b = make(2);
    a.onLocalDelta((d) => b.applyDelta(a.encodeDelta(d)));
    a.put('x', 1);
    a.map('m').setField('s').add(2);
    a.delete('x');
    expect(b.get('x')).toBeUndefined();
    expect(b.map('m').value()).toEqual({ s: [2] });
  });

  it('round-trips a whole replica through encode / decode', () => {
    const a = make(1);
    const b = make(2);
    a.put('x', { nested: [1, 'two', null] });
    a.counter('n').increment(4);
    b.set('s').add('q');
    syncBoth(a, b);
    b.set('s').remove('q');
    syncBoth(a, b);
    const copy = Replica.decode(a.encode(), { replicaId: 1 as ReplicaId });
    expect(copy.get('x')).toEqual({ nested: [1, 'two', null] });
    expect(copy.counter('n').value).toBe(4);
    expect(copy.set('s').values()).toEqual([]);
    expect(copy.contextOf().equals(a.contextOf())).toBe(true);
    expect(copy.pendingRemovals).toBe(a.pendingRemovals);
  });

  it('rejects bad input with typed errors and stays unchanged', () => {
    const a = make(1);
    a.counter('c').increment();
    expect(() => a.set('c').add(1)).toThrow(TypeMismatchError);
    expect(() => a.put('', 1)).toThrow(InvalidArgumentError);
    expect(() => a.put('k'.repeat(1025), 1)).toThrow(InvalidArgumentError);
    expect(() => a.put('k', undefined as never)).toThrow(InvalidArgumentError);
    expect(() => a.put('k', Number.NaN)).toThrow(InvalidArgumentError);
    expect(() => a.counter('c').increment(1.5)).toThrow(InvalidArgumentError);
    const before = a.encode();
    expect(() => a.applyDelta(new Uint8Array([9, 1, 0, 0, 0, 0]))).toThrow(DecodeError);
    expect(() => Replica.decode(a.encodeDelta(a.put('d', 1)), { replicaId: 5 as ReplicaId })).toThrow(DecodeError);
    expect(a.encode().length).toBeGreaterThan(before.length - 1);
    expect(a.counter('c').value).toBe(1);
  });
});
