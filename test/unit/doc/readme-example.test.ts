// The README's example, run as written (through the package's public subpaths), so the
// README stays true.
import { expect, it } from 'vitest';
import { replicaIdFromBytes } from '@neuroplex/core/clock';
import { Replica } from '@neuroplex/core/doc';

it('runs the README example', () => {
  const id = () => replicaIdFromBytes(crypto.getRandomValues(new Uint8Array(7)));
  const alice = new Replica({ replicaId: id(), now: Date.now });
  const bob = new Replica({ replicaId: id(), now: Date.now });
  alice.put('title', 'Groceries');
  alice.counter('views').increment();
  alice.set('tags').add('home');
  alice.map('item:1').set('name', 'milk');
  alice.text('notes').insert(0, 'Buy oat milk');
  bob.counter('views').increment(2);
  bob.applyDelta(alice.encodeDelta(alice.deltaSince(bob.contextOf())));
  alice.applyDelta(bob.deltaSince(alice.contextOf()));
  expect(alice.counter('views').value).toBe(3);
  expect(bob.counter('views').value).toBe(3);
  expect(bob.text('notes').toString()).toBe('Buy oat milk');
  const sent: Uint8Array[] = [];
  alice.onLocalDelta((delta) => sent.push(alice.encodeDelta(delta)));
  const seen: [string, unknown, string][] = [];
  const stop = bob.subscribe('item:*', (e) => seen.push([e.key, e.value, e.origin]));
  alice.map('item:1').set('name', 'oat milk');
  for (const bytes of sent) bob.applyDelta(bytes);
  stop();
  expect(seen).toEqual([['item:1', { name: 'oat milk' }, 'remote']]);
  const copy = Replica.decode(alice.encode(), { replicaId: alice.id });
  expect(copy.get('title')).toBe('Groceries');
  expect(copy.set('tags').values()).toEqual(['home']);
});
