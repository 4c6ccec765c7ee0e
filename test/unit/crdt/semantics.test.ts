// The semantics users rely on, one scenario each: add-wins, observed-remove, counter
// resets that keep concurrent increments, removals that travel transitively, and
// last-writer-wins / multi-value registers.
import { describe, expect, it } from 'vitest';
import type { ReplicaId } from '../../../core/src/clock/replica-id.ts';
import type { CausalCrdt } from '../../../core/src/crdt/causal-crdt.ts';
import type { DotStore } from '../../../core/src/crdt/dot-store.ts';
import { LWWRegister } from '../../../core/src/crdt/lww-register.ts';
import { MVRegister } from '../../../core/src/crdt/mv-register.ts';
import { ORMap } from '../../../core/src/crdt/or-map.ts';
import { ORSet } from '../../../core/src/crdt/or-set.ts';
import { PNCounter } from '../../../core/src/crdt/pn-counter.ts';
import { describeCrdt } from '../../../core/src/testing/describe-crdt.ts';

const A = 1 as ReplicaId;
const B = 2 as ReplicaId;
const C = 3 as ReplicaId;

function sync<S extends DotStore>(from: CausalCrdt<S>, to: CausalCrdt<S>): void {
  to.applyDelta(from.deltaSince(to.context));
}

describe('ORSet', () => {
  it('add wins over a concurrent remove', () => {
    const a = new ORSet(A);
    const b = new ORSet(B);
    b.applyDelta(a.add('x'));
    const rm = b.remove('x');
    const add = a.add('x'); // concurrent re-add: a new dot b never saw
    a.applyDelta(rm);
    b.applyDelta(add);
    expect(a.values()).toEqual(['x']);
    expect(b.values()).toEqual(['x']);
  });

  it('a remove removes only what it observed', () => {
    const a = new ORSet(A);
    const b = new ORSet(B);
    const addA = a.add('x');
    const addB = b.add('x'); // b's add, unseen by a
    const rm = a.remove('x'); // observes only a's dot
    b.applyDelta(addA);
    b.applyDelta(rm);
    a.applyDelta(addB);
    expect(a.has('x')).toBe(true);
    expect(b.has('x')).toBe(true);
    expect(describeCrdt(a)).toBe(describeCrdt(b));
  });

  it('a removal travels transitively through deltaSince', () => {
    const a = new ORSet(A);
    const b = new ORSet(B);
    const c = new ORSet(C);
    a.add('x');
    sync(a, b);
    sync(a, c);
    b.remove('x');
    sync(b, a); // a learns the removal from b
    sync(a, c); // c learns it from a, never talking to b
    expect(c.has('x')).toBe(false);
    expect(describeCrdt(c)).toBe(describeCrdt(a));
  });

  it('garbage collection drops removal records every replica has seen, and sync still converges', () => {
    const a = new ORSet(A);
    const b = new ORSet(B);
    a.add('x');
    sync(a, b);
    b.remove('x');
    sync(b, a);
    expect(a.removals.size).toBe(1);
    const stable = a.context.intersect(b.context);
    expect(a.collectGarbage(stable)).toBe(1);
    expect(b.collectGarbage(stable)).toBe(1);
    a.add('y');
    sync(a, b);
    expect(b.values()).toEqual(['y']);
    expect(a.values()).toEqual(['y']);
  });
});

describe('PNCounter', () => {
  it('counts every increment and decrement from every replica, once', () => {
    const a = new PNCounter(A);
    const b = new PNCounter(B);
    const d1 = a.increment(5);
    const d2 = b.decrement(2);
    a.applyDelta(d2);
    a.applyDelta(d2);
    b.applyDelta(d1);
    expect(a.value).toBe(3);
    expect(b.value).toBe(3);
  });
});

describe('ORMap', () => {
  it('removing a key keeps a concurrent update (observed-remove), and only that update', () => {
    const a = new ORMap(A);
    const b = new ORMap(B);
    b.applyDelta(a.increment(['views'], 10));
    const rm = a.remove(['views']);
    const inc = b.increment(['views'], 1); // concurrent with the removal
    a.applyDelta(inc);
    b.applyDelta(rm);
    expect(a.counterValue(['views'])).toBe(1);
    expect(b.counterValue(['views'])).toBe(1);
  });

  it('nests maps, sets and counters, and removing a nested map removes what it held', () => {
    const a = new ORMap(A);
    a.setRegister(['user:1', 'name'], 'Ada');
    a.addToSet(['user:1', 'tags'], 'admin');
    a.increment(['user:1', 'logins'], 3);
    expect(a.value()).toEqual({ 'user:1': { name: 'Ada', tags: ['admin'], logins: 3 } });
    const b = new ORMap(B);
    sync(a, b);
    b.remove(['user:1']);
    sync(b, a);
    expect(a.value()).toEqual({});
    expect(b.value()).toEqual({});
  });

  it('an update inside a nested map survives a concurrent removal of the map', () => {
    const a = new ORMap(A);
    const b = new ORMap(B);
    b.applyDelta(a.setRegister(['doc', 'title'], 'draft'));
    const rm = a.remove(['doc']);
    const up = b.setRegister(['doc', 'owner'], 'bob');
    a.applyDelta(up);
    b.applyDelta(rm);
    expect(a.value()).toEqual({ doc: { owner: 'bob' } });
    expect(b.value()).toEqual({ doc: { owner: 'bob' } });
  });
});

describe('registers', () => {
  it('LWW: the greater stamp wins on every replica, ties broken by replica id', () => {
    const a = new LWWRegister(A);
    const b = new LWWRegister(B);
    const da = a.set('from-a', 100);
    const db = b.set('from-b', 200);
    a.applyDelta(db);
    b.applyDelta(da);
    expect(a.value).toBe('from-b');
    expect(b.value).toBe('from-b');
    const c = new LWWRegister(C);
    const dc = c.set('from-c', 100);
    const a2 = new LWWRegister(A);
    const da2 = a2.set('from-a', 100);
    a2.applyDelta(dc);
    c.applyDelta(da2);
    expect(a2.value).toBe('from-c');
    expect(c.value).toBe('from-c');
  });

  it('LWW: a write made after observing another always wins, whatever the physical clocks say', () => {
    const a = new LWWRegister(A);
    const b = new LWWRegister(B);
    b.applyDelta(a.set('first', 5_000));
    b.set('second', 10); // b's physical clock is far behind
    sync(b, a);
    expect(a.value).toBe('second');
  });

  it('MV: concurrent writes are all kept until a write observes them', () => {
    const a = new MVRegister(A);
    const b = new MVRegister(B);
    const da = a.set('x');
    const db = b.set('y');
    a.applyDelta(db);
    b.applyDelta(da);
    expect(a.values().sort()).toEqual(['x', 'y']);
    b.applyDelta(a.set('z'));
    expect(b.values()).toEqual(['z']);
  });
});
