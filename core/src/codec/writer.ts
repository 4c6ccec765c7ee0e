// A growable byte writer. Reused across encodes (reset()), so a hot path allocates only
// when a message outgrows every earlier one.

const encoder = new TextEncoder();

export class Writer {
  buf: Uint8Array;
  pos: number;
  private view: DataView;

  constructor(initialBytes = 256) {
    this.buf = new Uint8Array(initialBytes);
    this.pos = 0;
    this.view = new DataView(this.buf.buffer);
  }

  reset(): void {
    this.pos = 0;
  }

  /** A copy of the bytes written so far. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }

  private ensure(extra: number): void {
    const need = this.pos + extra;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(value: number): void {
    this.ensure(1);
    this.buf[this.pos++] = value;
  }

  /** Unsigned LEB128 varint for 0 <= value <= 2^53 - 1 (at most 8 bytes). */
  varuint(value: number): void {
    this.ensure(8);
    const buf = this.buf;
    let pos = this.pos;
    while (value >= 0x80) {
      buf[pos++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    buf[pos++] = value;
    this.pos = pos;
  }

  /** Zigzag varint for safe integers of either sign. */
  varint(value: number): void {
    this.varuint(value >= 0 ? value * 2 : -value * 2 - 1);
  }

  f64(value: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, value, true);
    this.pos += 8;
  }

  bytes(value: Uint8Array): void {
    this.varuint(value.length);
    this.ensure(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }

  raw(value: Uint8Array): void {
    this.ensure(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }

  /** UTF-8 string, length-prefixed in bytes. */
  string(value: string): void {
    const n = value.length;
    // Fast path for short ASCII strings (keys, ids): no TextEncoder call.
    if (n < 64) {
      this.ensure(n + 1);
      let ascii = true;
      for (let i = 0; i < n; i++) {
        const c = value.charCodeAt(i);
        if (c >= 0x80) {
          ascii = false;
          break;
        }
        this.buf[this.pos + 1 + i] = c;
      }
      if (ascii) {
        this.buf[this.pos] = n;
        this.pos += n + 1;
        return;
      }
    }
    // Worst case 3 bytes per UTF-16 unit. Encode after room for the longest length
    // varint, then move the bytes back if the real length needs fewer (varints are
    // canonical: the reader rejects padded ones).
    this.ensure(n * 3 + 8);
    const reserved = varuintSize(n * 3);
    const start = this.pos + reserved;
    const { written } = encoder.encodeInto(value, this.buf.subarray(start));
    const actual = varuintSize(written);
    if (actual < reserved) this.buf.copyWithin(this.pos + actual, start, start + written);
    this.varuint(written);
    this.pos += written;
  }
}

/** Bytes a varuint of `value` takes. */
export function varuintSize(value: number): number {
  let n = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    n++;
  }
  return n;
}
