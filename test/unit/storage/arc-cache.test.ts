import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ArcCache } from '../../../server/src/storage/arc-cache.ts';
import { CachedKvStorage } from '../../../server/src/storage/cached-storage.ts';
import { MemoryKvStorage } from '../../../core/src/testing/memory-kv-storage.ts';
import { runKvStorageContract } from '../../../core/src/testing/kv-storage-contract.ts';

const seed = Number(process.env.FC_SEED ?? 7_2026);

/** ARC straight from the paper's pseudocode, with arrays (index 0 = LRU): the oracle. */
class NaiveArc {
  t1: number[] = [];
  t2: number[] = [];
  b1: number[] = [];
  b2: number[] = [];
  p = 0;
  constructor(readonly c: number) {}
  private static drop(list: number[], x: number): boolean {
    const i = list.indexOf(x);
    if (i < 0) return false;
    list.splice(i, 1);
    return true;
  }
  private replace(inB2: boolean): void {
    if (this.t1.length > 0 && (this.t1.length > this.p || (inB2 && this.t1.length === this.p))) this.b1.push(this.t1.shift()!);
    else if (this.t2.length > 0) this.b2.push(this.t2.shift()!);
    else if (this.t1.length > 0) this.b1.push(this.t1.shift()!);
  }
  /** One request (get, then set on a miss); returns whether it hit. */
  request(x: number): boolean {
    if (NaiveArc.drop(this.t1, x) || NaiveArc.drop(this.t2, x)) {
      this.t2.push(x);
      return true;
    }
    if (this.b1.includes(x)) {
      this.p = Math.min(this.c, this.p + Math.max(this.b2.length / this.b1.length, 1));
      this.replace(false);
      NaiveArc.drop(this.b1, x);
      this.t2.push(x);
      return false;
    }
    if (this.b2.includes(x)) {
      this.p = Math.max(0, this.p - Math.max(this.b1.length / this.b2.length, 1));
      this.replace(true);
      NaiveArc.drop(this.b2, x);
      this.t2.push(x);
      return false;
    }
    if (this.t1.length + this.b1.length === this.c) {
      if (this.t1.length < this.c) {
        this.b1.shift();
        this.replace(false);
      } else this.t1.shift();
    } else {
      const total = this.t1.length + this.b1.length + this.t2.length + this.b2.length;
      if (total >= this.c) {
        if (total === 2 * this.c) this.b2.shift();
        this.replace(false);
      }
    }
    this.t1.push(x);
    return false;
  }
}

function request(cache: ArcCache<number, number>, x: number): boolean {
  if (cache.get(x) !== undefined) return true;
  cache.set(x, x);
  return false;
}

describe('ArcCache', () => {
  it('matches the naive ARC oracle hit for hit and keeps the ARC invariants', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 400 }), (c, trace) => {
        const fast = new ArcCache<number, number>(c);
        const slow = new NaiveArc(c);
        for (const x of trace) {
          expect(request(fast, x)).toBe(slow.request(x));
          const s = fast.shape();
          expect([s.t1, s.t2, s.b1, s.b2]).toEqual([slow.t1.length, slow.t2.length, slow.b1.length, slow.b2.length]);
          expect(s.p).toBeCloseTo(slow.p, 9);
          expect(s.t1 + s.t2).toBeLessThanOrEqual(c);
          expect(s.t1 + s.b1).toBeLessThanOrEqual(c);
          expect(s.t1 + s.t2 + s.b1 + s.b2).toBeLessThanOrEqual(2 * c);
        }
        for (const x of [...slow.t1, ...slow.t2]) expect(fast.has(x)).toBe(true);
      }),
      { seed, numRuns: 300 },
    );
  });

  it('is scan resistant: a one-time scan does not flush the frequently used keys', () => {
    const c = 100;
    const arc = new ArcCache<number, number>(c);
    const lru = new Map<number, number>(); // plain LRU for comparison
    const lruRequest = (x: number): boolean => {
      const hit = lru.delete(x);
      lru.set(x, x);
      if (lru.size > c) lru.delete(lru.keys().next().value as number);
      return hit;
    };
    const hot = Array.from({ length: 50 }, (_, i) => i);
    for (let round = 0; round < 3; round++) for (const k of hot) (request(arc, k), lruRequest(k));
    for (let k = 10_000; k < 12_000; k++) (request(arc, k), lruRequest(k)); // the scan
    let arcHits = 0;
    let lruHits = 0;
    for (const k of hot) {
      if (request(arc, k)) arcHits++;
      if (lruRequest(k)) lruHits++;
    }
    expect(lruHits).toBe(0);
    expect(arcHits).toBe(hot.length);
  });

  it('adapts towards recency when recently evicted keys come back', () => {
    const arc = new ArcCache<number, number>(10);
    for (let r = 0; r < 2; r++) for (let k = 100; k < 105; k++) request(arc, k); // 5 frequent keys in T2
    expect(arc.shape().p).toBe(0);
    // A recency-heavy loop of 8 keys: with p = 0 they churn through T1 into B1, and each B1
    // hit raises p until the loop fits, after which it hits.
    let lateHits = 0;
    for (let round = 0; round < 30; round++) {
      for (let k = 0; k < 8; k++) if (request(arc, k) && round >= 25) lateHits++;
    }
    expect(arc.shape().p).toBeGreaterThan(0);
    expect(lateHits).toBeGreaterThan(0);
  });
});

describe('CachedKvStorage', () => {
  it('answers exactly like the storage under it (random ops against a Map oracle)', () => {
    const bytes = (n: number) => new Uint8Array([n & 0xff, n >> 8]);
    const op = fc.oneof(
      fc.tuple(fc.constant('put' as const), fc.integer({ min: 0, max: 20 }), fc.nat(60000)),
      fc.tuple(fc.constant('del' as const), fc.integer({ min: 0, max: 20 }), fc.constant(0)),
      fc.tuple(fc.constant('get' as const), fc.integer({ min: 0, max: 20 }), fc.constant(0)),
      fc.tuple(fc.constant('batch' as const), fc.integer({ min: 0, max: 20 }), fc.nat(60000)),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(op, { maxLength: 200 }), (cap, ops) => {
        const s = new CachedKvStorage(new MemoryKvStorage(), { capacity: cap });
        const oracle = new Map<string, number>();
        for (const [kind, k, v] of ops) {
          const key = `k${k}`;
          if (kind === 'put') (s.put(key, bytes(v)), oracle.set(key, v));
          else if (kind === 'del') (s.delete(key), oracle.delete(key));
          else if (kind === 'batch') {
            s.batch([
              { type: 'put', key, value: bytes(v) },
              { type: 'delete', key: `k${(k + 1) % 21}` },
            ]);
            oracle.set(key, v);
            oracle.delete(`k${(k + 1) % 21}`);
          } else {
            const got = s.get(key);
            const want = oracle.get(key);
            expect(got === undefined ? undefined : got[0]! | (got[1]! << 8)).toBe(want === undefined ? undefined : want & 0xffff);
          }
        }
        expect(s.cache.size).toBeLessThanOrEqual(cap);
      }),
      { seed, numRuns: 300 },
    );
  });
});

runKvStorageContract({ describe, it }, 'ARC cache over memory', { open: () => new CachedKvStorage(new MemoryKvStorage(), { capacity: 4 }) });
