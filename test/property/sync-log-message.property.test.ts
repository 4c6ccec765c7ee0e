// The sync protocol's `log` message (v2): any log id and position round-trip to the same
// message and the same bytes; every proper prefix of a frame, and any frame with a byte
// appended, is rejected with a DecodeError and nothing else.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../core/src/errors.ts';
import { decodeMessage, encodeMessage, MAX_LOG_ID_BYTES } from '../../core/src/sync/codec.ts';
import type { LogMessage } from '../../core/src/sync/messages.ts';

const seed = Number(process.env.FC_SEED ?? 20261125);
const utf8 = new TextEncoder();
const logMessage: fc.Arbitrary<LogMessage> = fc
  .record({
    channel: fc.nat({ max: 2 ** 31 }),
    logId: fc.string({ minLength: 1, maxLength: 64, unit: 'grapheme' }).filter((s) => utf8.encode(s).length <= MAX_LOG_ID_BYTES),
    position: fc.oneof(fc.nat(), fc.constant(Number.MAX_SAFE_INTEGER)),
  })
  .map((r) => ({ type: 'log' as const, ...r }));

const decodeError = (bytes: Uint8Array): boolean => {
  try {
    decodeMessage(bytes);
    return false;
  } catch (e) {
    if (e instanceof DecodeError) return true;
    throw e;
  }
};

describe('sync log message', () => {
  it('round-trips; its prefixes and extensions are DecodeErrors', () => {
    fc.assert(
      fc.property(logMessage, fc.nat(255), (m, extra) => {
        const bytes = encodeMessage(m).slice();
        expect(decodeMessage(bytes)).toEqual(m);
        expect(encodeMessage(decodeMessage(bytes))).toEqual(bytes);
        for (let n = 0; n < bytes.length; n++) expect(decodeError(bytes.subarray(0, n))).toBe(true);
        expect(decodeError(new Uint8Array([...bytes, extra]))).toBe(true);
      }),
      { seed, numRuns: 300 },
    );
  });
});
