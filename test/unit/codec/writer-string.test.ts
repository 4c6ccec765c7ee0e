// Writer.string reserves its length prefix before it knows the UTF-8 size; the Reader
// accepts only minimal varints, so every length must come out minimal (a 64..127-byte
// ASCII string once came out with a padded two-byte length and could not be read back).
import { describe, expect, it } from 'vitest';
import { Reader } from '../../../core/src/codec/reader.ts';
import { Writer } from '../../../core/src/codec/writer.ts';

describe('Writer.string', () => {
  it('round-trips strings of every length class with minimal length prefixes', () => {
    for (const ch of ['a', 'é', '€', '😀']) {
      for (let n = 0; n < 20_000; n += n < 200 ? 1 : 211) {
        const s = ch.repeat(n);
        const w = new Writer(16);
        w.u8(7);
        w.string(s);
        w.u8(9);
        const r = new Reader(w.finish());
        expect(r.u8()).toBe(7);
        expect(r.string(1 << 22)).toBe(s);
        expect(r.u8()).toBe(9);
        r.end();
      }
    }
  });
});
