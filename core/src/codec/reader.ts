// A bounds-checked byte reader. Every read checks its input and throws DecodeError with
// the offset; nothing here can read past the end or allocate more than the input allows.
import { DecodeError, ErrorCode } from '../errors.ts';

const decoder = new TextDecoder('utf-8', { fatal: true });

export class Reader {
  readonly buf: Uint8Array;
  pos: number;
  /** Made on the first float read: most readers never need one, and a DataView per Reader was a visible cost on hot decode paths. */
  private view: DataView | null = null;

  constructor(buf: Uint8Array) {
    this.buf = buf;
    this.pos = 0;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  fail(code: Parameters<typeof makeError>[0], message: string): never {
    throw makeError(code, message, this.pos);
  }

  u8(): number {
    if (this.pos >= this.buf.length) this.fail(ErrorCode.DecodeTruncated, 'unexpected end of input');
    return this.buf[this.pos++]!;
  }

  varuint(): number {
    const buf = this.buf;
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= buf.length) this.fail(ErrorCode.DecodeTruncated, 'truncated varint');
      const b = buf[this.pos++]!;
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        if (i > 0 && b === 0) this.fail(ErrorCode.DecodeVarint, 'varint has a redundant trailing byte');
        if (result > Number.MAX_SAFE_INTEGER) this.fail(ErrorCode.DecodeVarint, 'varint exceeds 2^53 - 1');
        return result;
      }
      scale *= 0x80;
    }
    this.fail(ErrorCode.DecodeVarint, 'varint longer than 8 bytes');
  }

  varint(): number {
    const z = this.varuint();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  /** A varuint that must lie in [min, max]. */
  bounded(min: number, max: number, what: string): number {
    const start = this.pos;
    const value = this.varuint();
    if (value < min || value > max) {
      throw makeError(ErrorCode.DecodeInvalid, `${what} ${value} outside ${min}..${max}`, start);
    }
    return value;
  }

  /**
   * A count of items that each take at least `minBytesPerItem` bytes: rejected when the
   * remaining input could not hold them, so a forged count cannot force a huge allocation.
   */
  count(what: string, minBytesPerItem = 1): number {
    const start = this.pos;
    const n = this.varuint();
    if (n * minBytesPerItem > this.remaining) {
      throw makeError(ErrorCode.DecodeTooLarge, `${what} count ${n} exceeds the input`, start);
    }
    return n;
  }

  f64(): number {
    if (this.pos + 8 > this.buf.length) this.fail(ErrorCode.DecodeTruncated, 'truncated float64');
    this.view ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  raw(length: number): Uint8Array {
    if (this.pos + length > this.buf.length) this.fail(ErrorCode.DecodeTruncated, 'truncated bytes');
    const out = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }

  bytes(maxBytes: number): Uint8Array {
    const start = this.pos;
    const n = this.varuint();
    if (n > maxBytes) throw makeError(ErrorCode.DecodeTooLarge, `byte string of ${n} exceeds ${maxBytes}`, start);
    return this.raw(n).slice();
  }

  string(maxBytes: number): string {
    const start = this.pos;
    const n = this.varuint();
    if (n > maxBytes) throw makeError(ErrorCode.DecodeTooLarge, `string of ${n} bytes exceeds ${maxBytes}`, start);
    if (this.pos + n > this.buf.length) this.fail(ErrorCode.DecodeTruncated, 'truncated string');
    const buf = this.buf;
    const end = this.pos + n;
    // Fast path for ASCII.
    if (n < 64) {
      let s = '';
      let i = this.pos;
      for (; i < end; i++) {
        const c = buf[i]!;
        if (c >= 0x80) break;
        s += String.fromCharCode(c);
      }
      if (i === end) {
        this.pos = end;
        return s;
      }
    }
    try {
      const s = decoder.decode(buf.subarray(this.pos, end));
      this.pos = end;
      return s;
    } catch (cause) {
      throw makeError(ErrorCode.DecodeInvalid, `invalid UTF-8 (${String(cause)})`, start);
    }
  }

  /** Ends a message: trailing bytes are an error, not something to ignore. */
  end(): void {
    if (this.pos !== this.buf.length) this.fail(ErrorCode.DecodeInvalid, `${this.buf.length - this.pos} trailing bytes`);
  }
}

function makeError(
  code:
    | typeof ErrorCode.DecodeTruncated
    | typeof ErrorCode.DecodeVarint
    | typeof ErrorCode.DecodeVersion
    | typeof ErrorCode.DecodeType
    | typeof ErrorCode.DecodeTooLarge
    | typeof ErrorCode.DecodeInvalid,
  message: string,
  offset: number,
): DecodeError {
  return new DecodeError(code, message, offset);
}
