// Text and list values inside a Replica: concurrent editing without interleaving, patches
// for editors, cursors, removal semantics, local undo, snapshots, and sync over bytes.
import { describe, expect, it } from 'vitest';
import type { ReplicaId } from '../../../core/src/clock/replica-id.ts';
import { InvalidArgumentError, TypeMismatchError } from '../../../core/src/errors.ts';
import { type ChangeEvent, Replica } from '../../../core/src/doc/replica.ts';

let clock = 0;
const make = (id: number) => new Replica({ replicaId: id as ReplicaId, now: () => clock });

function syncBoth(a: Replica, b: Replica): void {
  b.applyDelta(b.decodeDelta(a.encodeDelta(a.deltaSince(b.contextOf()))));
  a.applyDelta(a.decodeDelta(b.encodeDelta(b.deltaSince(a.contextOf()))));
}

/** Applies index patches to a plain string, as an editor binding would. */
function applyPatches(text: string, events: ChangeEvent[]): string {
  for (const e of events) {
    for (const p of e.patches ?? []) {
      if (p.kind === 'insert') text = text.slice(0, p.index) + (p.content as string) + text.slice(p.index);
      else text = text.slice(0, p.index) + text.slice(p.index + p.length);
    }
  }
  return text;
}

describe('text in a Replica', () => {
  it('two replicas typing at the same place converge without interleaving', () => {
    const a = make(1);
    const b = make(2);
    a.text('doc').insert(0, 'Hello world');
    syncBoth(a, b);
    a.text('doc').insert(5, ' there');
    b.text('doc').insert(5, ' dear');
    syncBoth(a, b);
    const s = a.text('doc').toString();
    expect(b.text('doc').toString()).toBe(s);
    expect([' there dear', ' dear there'].some((mid) => s === `Hello${mid} world`)).toBe(true);
    expect(a.get('doc')).toBe(s);
    expect(a.typeOf('doc')).toBe('text');
  });

  it('remote changes arrive with index patches that rebuild the text in an editor', () => {
    const a = make(1);
    const b = make(2);
    const events: ChangeEvent[] = [];
    b.subscribe('doc', (e) => events.push(e));
    a.onLocalDelta((d) => b.applyDelta(a.encodeDelta(d)));
    a.text('doc').insert(0, 'abcdef');
    a.text('doc').delete(1, 2);
    a.text('doc').insert(3, 'XY');
    expect(applyPatches('', events)).toBe(a.text('doc').toString());
    expect(b.text('doc').toString()).toBe('adeXYf');
  });

  it('a cursor keeps pointing at its character across remote edits', () => {
    const a = make(1);
    const b = make(2);
    a.text('doc').insert(0, 'hello');
    syncBoth(a, b);
    const caret = a.text('doc').cursor(2); // before the first "l"
    b.text('doc').insert(0, '>> ');
    b.text('doc').delete(4, 1); // removes "e"
    syncBoth(a, b);
    const at = a.text('doc').resolve(caret);
    expect(a.text('doc').toString().slice(at)).toBe('llo');
  });

  it('undo removes exactly the local change while others keep editing, and redo restores it', () => {
    const a = make(1);
    const b = make(2);
    a.text('doc').insert(0, 'base ');
    syncBoth(a, b);
    const undo = a.text('doc').undoManager({ captureTimeoutMs: 500 });
    clock = 1_000;
    undo.insert(5, 'mine');
    b.text('doc').insert(0, 'theirs ');
    syncBoth(a, b);
    undo.undo();
    syncBoth(a, b);
    expect(a.text('doc').toString()).toBe('theirs base ');
    expect(b.text('doc').toString()).toBe('theirs base ');
    undo.redo();
    syncBoth(a, b);
    expect(b.text('doc').toString()).toBe('theirs base mine');
  });

  it('deleting a text key removes what was observed; a concurrent insert survives', () => {
    const a = make(1);
    const b = make(2);
    a.text('doc').insert(0, 'old');
    syncBoth(a, b);
    a.delete('doc');
    b.text('doc').insert(3, '+new');
    syncBoth(a, b);
    expect(a.text('doc').toString()).toBe('+new');
    expect(b.text('doc').toString()).toBe('+new');
  });

  it('lists live in maps and hold JSON values', () => {
    const a = make(1);
    const b = make(2);
    const items = a.map('todo').list('items');
    items.push({ title: 'milk', done: false }, { title: 'bread', done: false });
    items.insert(0, 'first');
    syncBoth(a, b);
    expect(b.map('todo').list('items').toArray()).toEqual(['first', { title: 'milk', done: false }, { title: 'bread', done: false }]);
    b.map('todo').list('items').delete(0, 1);
    syncBoth(a, b);
    expect(a.map('todo').value()).toEqual({ items: [{ title: 'milk', done: false }, { title: 'bread', done: false }] });
  });

  it('survives a snapshot round trip, and rejects bad edits with typed errors', () => {
    const a = make(1);
    a.text('doc').insert(0, 'persist me');
    a.text('doc').delete(0, 8);
    const copy = Replica.decode(a.encode(), { replicaId: 1 as ReplicaId });
    expect(copy.text('doc').toString()).toBe('me');
    copy.text('doc').insert(2, '!');
    expect(copy.text('doc').toString()).toBe('me!');
    expect(() => a.text('doc').insert(99, 'x')).toThrow(InvalidArgumentError);
    expect(() => a.text('doc').delete(1, 5)).toThrow(InvalidArgumentError);
    a.counter('n').increment();
    expect(() => a.text('n').insert(0, 'x')).toThrow(TypeMismatchError);
  });
});
