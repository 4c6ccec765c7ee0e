// A small seeded PRNG (sfc32, Chris Doty-Humphrey's "small fast counter"). Every simulator
// and every randomized part of the core takes one of these, so a seed replays a run exactly.
// Never use Math.random in the core or in tests: runs could not be replayed.

export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** @param seed any safe integer; different seeds give unrelated streams. */
  constructor(seed: number) {
    // Split the seed into two 32-bit halves so seeds above 2^32 still differ.
    this.a = 0x9e3779b9;
    this.b = seed >>> 0;
    this.c = Math.floor(seed / 0x100000000) >>> 0;
    this.d = 1;
    // Warm up: the first outputs of sfc32 are correlated with the seed.
    for (let i = 0; i < 15; i++) this.nextU32();
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  nextU32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** A float in [0, 1). */
  next(): number {
    return this.nextU32() / 0x100000000;
  }

  /** An integer in [0, n); n must be in 1..2^32. */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** An integer in [lo, hi] inclusive. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** A uniformly chosen element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** A new generator whose stream is derived from this one (for sub-components). */
  fork(): Prng {
    return new Prng(this.nextU32() * 0x100000 + (this.nextU32() & 0xfffff));
  }
}
