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
    // Worst case 3 bytes per UTF-16 unit, plus a varint length of up to 5 bytes.
    this.ensure(n * 3 + 5);
    const at = this.pos;
    const lenBytes = n * 3 < 0x80 ? 1 : n * 3 < 0x4000 ? 2 : n * 3 < 0x200000 ? 3 : 4;
    const start = at + lenBytes;
    const { written } = encoder.encodeInto(value, this.buf.subarray(start));
    // The reader accepts only minimal varints (a padded length is rejected), so when the
    // string came out shorter than reserved for, move it down behind its minimal length.
    const need = written < 0x80 ? 1 : written < 0x4000 ? 2 : written < 0x200000 ? 3 : 4;
    if (need < lenBytes) this.buf.copyWithin(at + need, start, start + written);
    this.varuint(written); // at `at`, exactly `need` bytes, within the room ensured above
    this.pos = at + need + written;
  }
}
