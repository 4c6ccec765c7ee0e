// Regression: Writer.string reserved a worst-case length prefix and padded it, so strings of
// 64-127 ASCII characters (among others) were written with a non-minimal varint that
// Reader.string rightly rejects ("redundant trailing byte").
import { describe, expect, it } from 'vitest';
import { Reader } from '../../../core/src/codec/reader.ts';
import { Writer } from '../../../core/src/codec/writer.ts';

function roundTrip(s: string): string {
  const w = new Writer(8);
  w.string(s);
  w.u8(0xab); // a sentinel right after, to catch a wrong end position
  const r = new Reader(w.finish());
  const back = r.string(1 << 24);
  expect(r.u8()).toBe(0xab);
  r.end();
  return back;
}

describe('Writer.string / Reader.string', () => {
  it('round-trips every length around the varint and fast-path boundaries', () => {
    const lengths = [0, 1, 42, 43, 63, 64, 65, 100, 127, 128, 129, 5461, 5462, 16383, 16384, 16385, 70000];
    for (const n of lengths) {
      expect(roundTrip('x'.repeat(n))).toHaveLength(n);
      expect(roundTrip('é'.repeat(n))).toBe('é'.repeat(n));
      expect(roundTrip('€'.repeat(n))).toBe('€'.repeat(n));
      expect(roundTrip('😀'.repeat(Math.ceil(n / 2)))).toBe('😀'.repeat(Math.ceil(n / 2)));
    }
  });

  it('writes minimal length prefixes', () => {
    const w = new Writer();
    w.string('x'.repeat(100));
    expect(w.finish().length).toBe(101);
  });
});
