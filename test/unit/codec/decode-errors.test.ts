// Each way a message can be bad has its own DecodeError code, and the offset says where.
import { describe, expect, it } from 'vitest';
import type { ReplicaId } from '../../../core/src/clock/replica-id.ts';
import { decodeDelta } from '../../../core/src/codec/delta/decoder.ts';
import { Reader } from '../../../core/src/codec/reader.ts';
import { Writer } from '../../../core/src/codec/writer.ts';
import { DecodeError, ErrorCode } from '../../../core/src/errors.ts';
import { Replica } from '../../../core/src/doc/replica.ts';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof DecodeError) return e.code;
    throw e;
  }
  return 'no error';
}

const r = new Replica({ replicaId: 7 as ReplicaId });
const valid = r.encodeDelta(r.put('key', 'value'));

describe('DecodeError codes', () => {
  it('truncated input', () => {
    // A cut inside a fixed-size field is "truncated"; a cut that leaves a count larger than
    // what remains is reported as "too large" (the count cannot be told from a forged one).
    const codes = new Set<string>();
    for (let n = 0; n < valid.length; n++) codes.add(codeOf(() => decodeDelta(valid.subarray(0, n))));
    expect(codes.has(ErrorCode.DecodeTruncated)).toBe(true);
    for (const code of codes) expect([ErrorCode.DecodeTruncated, ErrorCode.DecodeTooLarge]).toContain(code);
  });

  it('a newer format version', () => {
    const bytes = valid.slice();
    bytes[0] = 99;
    expect(codeOf(() => decodeDelta(bytes))).toBe(ErrorCode.DecodeVersion);
  });

  it('an unknown message kind or store type', () => {
    const kind = valid.slice();
    kind[1] = (7 << 4) | (kind[1]! & 0x0f);
    expect(codeOf(() => decodeDelta(kind))).toBe(ErrorCode.DecodeType);
    const type = valid.slice();
    type[1] = (type[1]! & 0xf0) | 0x0e;
    expect(codeOf(() => decodeDelta(type))).toBe(ErrorCode.DecodeType);
  });

  it('oversized counts and strings', () => {
    const w = new Writer();
    w.u8(1);
    w.u8(0x10);
    w.varuint(1_000_000); // a replica table far larger than the input
    expect(codeOf(() => decodeDelta(w.finish()))).toBe(ErrorCode.DecodeTooLarge);
    const s = new Writer();
    s.string('x'.repeat(100));
    expect(codeOf(() => new Reader(s.finish()).string(10))).toBe(ErrorCode.DecodeTooLarge);
  });

  it('bad varints: too long, redundant, or beyond 2^53', () => {
    expect(codeOf(() => new Reader(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01])).varuint())).toBe(ErrorCode.DecodeVarint);
    expect(codeOf(() => new Reader(new Uint8Array([0x81, 0x00])).varuint())).toBe(ErrorCode.DecodeVarint);
    expect(codeOf(() => new Reader(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])).varuint())).toBe(ErrorCode.DecodeVarint);
    const w = new Writer();
    w.varuint(Number.MAX_SAFE_INTEGER);
    expect(new Reader(w.finish()).varuint()).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('trailing bytes and invalid UTF-8', () => {
    const extra = new Uint8Array(valid.length + 1);
    extra.set(valid);
    expect(codeOf(() => decodeDelta(extra))).toBe(ErrorCode.DecodeInvalid);
    expect(codeOf(() => new Reader(new Uint8Array([2, 0xc3, 0x28])).string(10))).toBe(ErrorCode.DecodeInvalid);
  });

  it('round-trips varints, zigzag ints, floats and strings at their edges', () => {
    const w = new Writer(1);
    const nums = [0, 1, 127, 128, 16383, 16384, 2 ** 31, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER];
    for (const n of nums) w.varuint(n);
    for (const n of [-1, 1, -(2 ** 40), 2 ** 40]) w.varint(n);
    w.f64(-0.5);
    const strings = ['', 'ascii', 'é', '😀'.repeat(40), 'x'.repeat(70)];
    for (const s of strings) w.string(s);
    const rd = new Reader(w.finish());
    for (const n of nums) expect(rd.varuint()).toBe(n);
    for (const n of [-1, 1, -(2 ** 40), 2 ** 40]) expect(rd.varint()).toBe(n);
    expect(rd.f64()).toBe(-0.5);
    for (const s of strings) expect(rd.string(1 << 20)).toBe(s);
    rd.end();
  });
});
