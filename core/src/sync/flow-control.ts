// The in-flight budget of one session direction: payload bytes sent and not yet
// acknowledged as stored. A sender admits a message only while the budget has room, so a
// slow peer holds the sender to `maxBytes` of unacknowledged data, never more; a single
// message larger than the budget is admitted only when nothing is in flight (otherwise it
// could never be sent), and large transfers are cut into chunks well below the budget.
import { assert } from '../errors.ts';

export class FlowWindow {
  readonly maxBytes: number;
  /** Invariant: the sum of `sizes[head..]`. */
  inflightBytes: number;
  /** Sequence number of the last message sent (0 before the first). */
  lastSeq: number;
  /** Every message up to this sequence number is acknowledged as stored. */
  ackedSeq: number;
  /** Payload sizes of messages ackedSeq+1 .. lastSeq, from index `head`. */
  private sizes: number[];
  private head: number;

  constructor(maxBytes: number) {
    assert(Number.isSafeInteger(maxBytes) && maxBytes > 0, 'maxInflightBytes must be a positive integer');
    this.maxBytes = maxBytes;
    this.inflightBytes = 0;
    this.lastSeq = 0;
    this.ackedSeq = 0;
    this.sizes = [];
    this.head = 0;
  }

  /** Room for `size` more bytes? */
  admits(size: number): boolean {
    return this.inflightBytes === 0 || this.inflightBytes + size <= this.maxBytes;
  }

  get room(): number {
    return Math.max(0, this.maxBytes - this.inflightBytes);
  }

  /** Records a sent message and returns its sequence number. */
  sent(size: number): number {
    this.sizes.push(size);
    this.inflightBytes += size;
    return ++this.lastSeq;
  }

  /**
   * Frees every message up to `seq`. Returns false when `seq` names a message never sent
   * (a protocol error); an ack at or below what is already acknowledged changes nothing.
   */
  ack(seq: number): boolean {
    if (seq > this.lastSeq) return false;
    while (this.ackedSeq < seq) {
      this.inflightBytes -= this.sizes[this.head++]!;
      this.ackedSeq++;
    }
    if (this.head > 1024 && this.head * 2 > this.sizes.length) {
      this.sizes = this.sizes.slice(this.head);
      this.head = 0;
    }
    return true;
  }
}
