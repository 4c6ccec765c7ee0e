// Replica-to-replica sync through createDeltaStream/applyDelta only (no origin): two
// clients converge through a transport that reorders and duplicates envelopes (seeded),
// acknowledgements shrink the next catch-up, and garbage is refused with a typed error and
// no change.
import { describe, expect, it } from 'vitest';
import { NeuroplexClient } from '../../../browser/src/client.ts';
import { InvalidDeltaError } from '../../../browser/src/errors.ts';
import { MemoryStorage } from '../../../browser/src/storage/memory-storage.ts';
import type { WebSocketConstructor, WebSocketLike } from '../../../browser/src/transport.ts';
import { stateOf } from '../../support/sync-harness.ts';

/** A socket that never connects: these clients only sync peer to peer. */
class NeverSocket implements WebSocketLike {
  binaryType = 'arraybuffer';
  readonly readyState = 0;
  onopen = null;
  onmessage = null;
  onclose = null;
  onerror = null;
  send(): void {}
  close(): void {}
}

async function offlineClient(keyspace = 'p2p', storage = new MemoryStorage()): Promise<NeuroplexClient> {
  const c = await NeuroplexClient.connect({ url: 'ws://127.0.0.1:9/v1/sync', keyspace, storage, WebSocket: NeverSocket as unknown as WebSocketConstructor, networkEvents: null });
  c.goOffline();
  return c;
}

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A next() that lost a race to the idle timer is kept for the following drain (never dropped). */
const pendingNext = new WeakMap<AsyncIterableIterator<Uint8Array>, Promise<IteratorResult<Uint8Array>>>();

/** Takes what the stream has ready now (bounded), without waiting for more. */
async function drain(it: AsyncIterableIterator<Uint8Array>, max = 1000): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (let i = 0; i < max; i++) {
    const next = pendingNext.get(it) ?? it.next();
    pendingNext.set(it, next);
    const r = await Promise.race([next, new Promise<'idle'>((res) => setTimeout(() => res('idle'), 5))]);
    if (r === 'idle') break;
    pendingNext.delete(it);
    if (r.done === true) break;
    out.push(r.value);
  }
  return out;
}

/** Delivers `envs` shuffled, each one once or twice. */
async function deliverShuffled(to: NeuroplexClient, envs: Uint8Array[], rnd: () => number): Promise<Uint8Array[]> {
  const copies = envs.flatMap((e) => (rnd() < 0.4 ? [e, e] : [e]));
  for (let i = copies.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [copies[i], copies[j]] = [copies[j]!, copies[i]!];
  }
  const acks: Uint8Array[] = [];
  for (const e of copies) acks.push(await to.applyDelta(e));
  return acks;
}

describe('createDeltaStream / applyDelta', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`two clients converge through reordered, duplicated envelopes (seed ${seed})`, async () => {
      const rnd = prng(seed);
      const a = await offlineClient();
      const b = await offlineClient();
      try {
        await a.set('title', 'a');
        await a.counter.increment('views', 2);
        a.text('doc').insert(0, 'hello');
        await b.set.add('tags', 'b');
        const toB = (await a.createDeltaStream('b')).receive();
        const toA = (await b.createDeltaStream('a')).receive();
        for (let round = 0; round < 4; round++) {
          // Live edits on both sides between rounds.
          await a.counter.increment('views', 1);
          a.text('doc').insert(0, `a${round}`);
          await b.counter.increment('views', 10);
          await b.set(`b:${round}`, round);
          if (round === 2) a.map('profile').set('name', `a${seed}`);
          if (round === 2) b.map('profile').set('name', `b${seed}`);
          await deliverShuffled(b, await drain(toB), rnd);
          await deliverShuffled(a, await drain(toA), rnd);
        }
        await deliverShuffled(b, await drain(toB), rnd);
        expect(stateOf(a.replica), `seed ${seed}`).toEqual(stateOf(b.replica));
        expect(a.replica.counter('views').value).toBe(2 + 4 + 40);
        expect(b.replica.get('title')).toBe('a');
        // The register race on profile.name counted as a conflict on at least one side.
        expect(a.metrics().conflicts.concurrent + b.metrics().conflicts.concurrent).toBeGreaterThanOrEqual(1);
      } finally {
        await a.close();
        await b.close();
      }
    });
  }

  it('an acknowledged context makes the next stream send only what is new', async () => {
    const a = await offlineClient();
    const b = await offlineClient();
    for (let i = 0; i < 50; i++) await a.set(`k${i}`, 'x'.repeat(50));
    const s1 = await a.createDeltaStream('b');
    const first = await drain(s1.receive());
    expect(first.length).toBe(1);
    const ack = await b.applyDelta(first[0]!);
    s1.acknowledge(ack);
    s1.close();
    await a.set('late', 1);
    const s2 = await a.createDeltaStream('b');
    const second = await drain(s2.receive());
    expect(second.length).toBe(1);
    expect(second[0]!.length).toBeLessThan(first[0]!.length / 10);
    await b.applyDelta(second[0]!);
    expect(b.replica.get('late')).toBe(1);
    // A stream with nothing to catch up yields only live changes.
    const s3 = await a.createDeltaStream('c', { since: await b.applyDelta(second[0]!) });
    expect(await drain(s3.receive())).toEqual([]);
    await a.close();
    await b.close();
  });

  it('refuses garbage, truncation, other keyspaces and acks as deltas, changing nothing', async () => {
    const a = await offlineClient();
    const b = await offlineClient();
    const other = await offlineClient('elsewhere');
    await a.set('k', 1);
    await b.set('mine', 2);
    const env = (await drain((await a.createDeltaStream('b')).receive()))[0]!;
    const before = JSON.stringify(stateOf(b.replica));
    const bad: unknown[] = [new Uint8Array([9, 1, 0]), new Uint8Array([1, 7, 0, 1]), new Uint8Array([...env, 0]), 'text', env.slice(0, 0)];
    // Every truncation of a valid envelope.
    for (let n = 1; n < env.length; n++) bad.push(env.slice(0, n));
    for (const x of bad) {
      await expect(b.applyDelta(x as Uint8Array)).rejects.toBeInstanceOf(InvalidDeltaError);
      expect(JSON.stringify(stateOf(b.replica))).toBe(before);
    }
    await expect(other.applyDelta(env)).rejects.toThrow(/keyspace/);
    const ack = await b.applyDelta(env);
    await expect(a.applyDelta(ack)).rejects.toBeInstanceOf(InvalidDeltaError);
    expect(JSON.stringify(stateOf(b.replica))).not.toBe(before);
    expect(b.replica.get('k')).toBe(1);
    expect(b.replica.get('mine')).toBe(2);
    for (const c of [a, b, other]) await c.close();
  });

  it('a reader that falls behind gets one catch-up delta instead of an unbounded queue', async () => {
    const a = await offlineClient();
    const b = await offlineClient();
    const stream = await a.createDeltaStream('b', { maxQueued: 5 });
    const it = stream.receive();
    expect(await drain(it)).toEqual([]);
    for (let i = 0; i < 20; i++) await a.counter.increment('n');
    const got = await drain(it);
    expect(got.length).toBeLessThanOrEqual(6);
    for (const e of got) await b.applyDelta(e);
    expect(b.replica.counter('n').value).toBe(20);
    await a.close();
    await b.close();
  });
});
