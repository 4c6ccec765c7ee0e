// The in-flight budget of append messages to one follower, bounded by message count and by
// bytes: a ring buffer of (last index, bytes) per message, freed as acks arrive.
import { assert } from '../../errors.ts';

export class Inflights {
  private start: number;
  private count: number;
  private bytes: number;
  readonly maxCount: number;
  readonly maxBytes: number;
  private readonly indexes: Float64Array;
  private readonly sizes: Float64Array;

  /** @param maxBytes 0 means no byte limit. */
  constructor(maxCount: number, maxBytes: number) {
    assert(maxCount > 0, 'maxInflightMessages must be positive');
    this.start = 0;
    this.count = 0;
    this.bytes = 0;
    this.maxCount = maxCount;
    this.maxBytes = maxBytes;
    this.indexes = new Float64Array(maxCount);
    this.sizes = new Float64Array(maxCount);
  }

  /** Records an append message ending at `index` carrying `bytes` bytes of entries. */
  add(index: number, bytes: number): void {
    assert(!this.full(), 'inflights overflow');
    const slot = (this.start + this.count) % this.maxCount;
    this.indexes[slot] = index;
    this.sizes[slot] = bytes;
    this.count++;
    this.bytes += bytes;
  }

  /** Frees every message whose last index is <= to. */
  freeLE(to: number): void {
    while (this.count > 0 && this.indexes[this.start]! <= to) {
      this.bytes -= this.sizes[this.start]!;
      this.start = (this.start + 1) % this.maxCount;
      this.count--;
    }
    if (this.count === 0) this.start = 0;
  }

  /** Frees the oldest message (a heartbeat answer proves the follower is reachable). */
  freeFirstOne(): void {
    if (this.count === 0) return;
    this.freeLE(this.indexes[this.start]!);
  }

  full(): boolean {
    return this.count === this.maxCount || (this.maxBytes > 0 && this.bytes >= this.maxBytes);
  }

  size(): number {
    return this.count;
  }

  sizeBytes(): number {
    return this.bytes;
  }

  reset(): void {
    this.start = 0;
    this.count = 0;
    this.bytes = 0;
  }
}
