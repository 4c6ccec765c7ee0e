// Entry envelopes: the proposing process recognises its own entries (and only those), the
// command survives the round trip byte for byte, v1 entries of older logs still apply, and
// garbage is a DecodeError.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Writer } from '../../../core/src/codec/writer.ts';
import { DecodeError } from '../../../core/src/errors.ts';
import { encodeCommand } from '../../../core/src/kv/command-codec.ts';
import type { KvCommand } from '../../../core/src/kv/commands.ts';
import { decodeEnvelope, encodeEnvelope, ORIGIN_BYTES } from '../../../server/src/cluster/entry-envelope.ts';

const limits = { maxValueBytes: 1024 };
const cmd: KvCommand = { type: 'put', ks: 'app', key: 'k', value: { n: 1 } };
const origin = (b: number) => new Uint8Array(ORIGIN_BYTES).fill(b);

describe('entry envelope', () => {
  it('v2: the proposer sees its sequence number, any other process sees -1, for any seq', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.uint8Array({ minLength: ORIGIN_BYTES, maxLength: ORIGIN_BYTES }), (seq, mine) => {
        const bytes = encodeEnvelope(mine, seq, encodeCommand(cmd));
        expect(decodeEnvelope(bytes, mine, limits)).toEqual({ seq, command: cmd });
        const other = mine.map((x, i) => (i === ORIGIN_BYTES - 1 ? x ^ 1 : x));
        expect(decodeEnvelope(bytes, other, limits).seq).toBe(-1);
      }),
      { seed: 6, numRuns: 200 },
    );
  });

  it('copies the command bytes: a reused source buffer does not change a logged entry', () => {
    const src = encodeCommand(cmd);
    const bytes = encodeEnvelope(origin(1), 7, src);
    src.fill(0);
    expect(decodeEnvelope(bytes, origin(1), limits).command).toEqual(cmd);
  });

  it('the proposer reuses the command it decoded when it took the write; others, and a write it forgot, decode', () => {
    const bytes = encodeEnvelope(origin(1), 7, encodeCommand(cmd));
    const taken: KvCommand = { type: 'put', ks: 'app', key: 'k', value: { n: 1 } };
    const asked: number[] = [];
    const proposed = (seq: number): KvCommand | undefined => {
      asked.push(seq);
      return seq === 7 ? taken : undefined;
    };
    expect(decodeEnvelope(bytes, origin(1), limits, proposed).command).toBe(taken);
    const other = decodeEnvelope(bytes, origin(2), limits, proposed);
    expect(other.command).not.toBe(taken);
    expect(other.command).toEqual(cmd);
    expect(asked).toEqual([7]); // never asked for another process's sequence number
    const forgotten = decodeEnvelope(encodeEnvelope(origin(1), 8, encodeCommand(cmd)), origin(1), limits, proposed);
    expect([forgotten.seq, forgotten.command]).toEqual([8, cmd]);
  });

  it('v1 entries (a request id string) from older logs decode as not mine', () => {
    const w = new Writer();
    w.u8(1);
    w.string('n1/abcd/42');
    w.raw(encodeCommand(cmd));
    expect(decodeEnvelope(w.finish(), origin(1), limits)).toEqual({ seq: -1, command: cmd });
  });

  it('rejects unknown versions and truncated envelopes with DecodeError', () => {
    expect(() => decodeEnvelope(new Uint8Array([9, 1, 2]), origin(1), limits)).toThrow(DecodeError);
    expect(() => decodeEnvelope(new Uint8Array([2, 1, 1]), origin(1), limits)).toThrow(DecodeError);
    const good = encodeEnvelope(origin(1), 300, encodeCommand(cmd));
    expect(() => decodeEnvelope(good.subarray(0, good.length - 3), origin(1), limits)).toThrow(DecodeError);
  });
});
