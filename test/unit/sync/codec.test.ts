// The sync wire codec: every message round-trips, newer versions are refused with a
// readable header, and mutated frames only ever throw DecodeError.
import { describe, expect, it } from 'vitest';
import { CausalContext } from '../../../core/src/clock/causal-context.ts';
import type { ReplicaId } from '../../../core/src/clock/replica-id.ts';
import { Replica } from '../../../core/src/doc/replica.ts';
import { DecodeError, ErrorCode } from '../../../core/src/errors.ts';
import { decodeMessage, encodeMessage, MAX_LOG_ID_BYTES, peekFrameHeader } from '../../../core/src/sync/codec.ts';
import { Writer } from '../../../core/src/codec/writer.ts';
import { RefuseReason, SyncErrorCode } from '../../../core/src/sync/errors.ts';
import { MIN_SYNC_PROTOCOL_VERSION, SYNC_PROTOCOL_VERSION, type SyncMessage } from '../../../core/src/sync/messages.ts';
import { SeededRandom } from '../../support/sync-random.ts';

const r1 = 1 as ReplicaId;
const ctx = new CausalContext();
ctx.addRange(r1, 1, 5);
ctx.add(7 as ReplicaId, 3);

function sampleMessages(): SyncMessage[] {
  const replica = new Replica({ replicaId: 9 as ReplicaId });
  const bytes = replica.encodeDelta(replica.put('k', { a: [1, 'x'] }));
  return [
    { type: 'hello', channel: 3, version: SYNC_PROTOCOL_VERSION, keyspace: 'docs', replica: r1, token: 'secret', resume: { mode: 'cursor', logId: 'log-a', position: 42 }, transfer: undefined },
    { type: 'hello', channel: 4, version: SYNC_PROTOCOL_VERSION, keyspace: 'é', replica: 2 ** 53 - 1, token: '', resume: { mode: 'context', context: ctx }, transfer: { position: 9, checksum: 0xffffffff, receivedBytes: 1000 } } as SyncMessage,
    { type: 'welcome', channel: 3, replica: 77 as ReplicaId, logId: 'log-a', head: 100, mode: 'log', context: undefined },
    { type: 'welcome', channel: 3, replica: 77 as ReplicaId, logId: 'log-a', head: 100, mode: 'context', context: ctx },
    { type: 'refuse', channel: 1, reason: RefuseReason.Unauthorized, supportedVersion: 1, message: 'no' },
    { type: 'delta', channel: 1, seq: 1, position: 0, bytes },
    { type: 'delta', channel: 1, seq: 300, position: 123456789, bytes },
    { type: 'ack', channel: 1, level: 'stored', seq: 5, position: 0 },
    { type: 'ack', channel: 1, level: 'committed', seq: 5, position: 77 },
    { type: 'progress', channel: 2, position: 10, caughtUp: true },
    { type: 'chunk', channel: 2, seq: 3, kind: 'snapshot', position: 50, totalBytes: 10, checksum: 123456, offset: 4, bytes: new Uint8Array([1, 2, 3]) },
    { type: 'error', channel: 2, code: SyncErrorCode.OutOfOrder, message: 'seq 3, expected 2' },
    { type: 'close', channel: 2, message: 'bye' },
    { type: 'log', channel: 2, logId: 'docs@17', position: 0 },
    { type: 'log', channel: 5, logId: 'x'.repeat(MAX_LOG_ID_BYTES), position: 2 ** 53 - 1 },
  ];
}

describe('sync codec', () => {
  it('round-trips every message type', () => {
    for (const m of sampleMessages()) {
      const bytes = encodeMessage(m);
      expect(bytes[0]).toBe(SYNC_PROTOCOL_VERSION);
      const back = decodeMessage(bytes);
      expect(back).toEqual(m);
      expect(encodeMessage(back)).toEqual(bytes);
    }
  });

  it('refuses a newer protocol version but still reads the frame header', () => {
    const hello = sampleMessages()[0]! as Extract<SyncMessage, { type: 'hello' }>;
    const bytes = encodeMessage({ ...hello, version: SYNC_PROTOCOL_VERSION + 1 });
    const err = (() => {
      try {
        decodeMessage(bytes);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(DecodeError);
    expect((err as DecodeError).code).toBe(ErrorCode.DecodeVersion);
    expect((err as DecodeError).message).toMatch(new RegExp(`version ${SYNC_PROTOCOL_VERSION + 1} is not supported`));
    expect(peekFrameHeader(bytes)).toEqual({ version: SYNC_PROTOCOL_VERSION + 1, type: 'hello', channel: 3 });
  });

  it('rejects a log message without a log id, with a too long one, truncated or with trailing bytes; and frames older than its oldest version', () => {
    const frame = (version: number, body: (w: Writer) => void): Uint8Array => {
      const w = new Writer(64);
      w.u8(version);
      w.u8(11);
      w.varuint(1);
      body(w);
      return w.finish();
    };
    const code = (bytes: Uint8Array): string => {
      try {
        decodeMessage(bytes);
      } catch (e) {
        expect(e).toBeInstanceOf(DecodeError);
        return (e as DecodeError).code;
      }
      return 'decoded';
    };
    const v = SYNC_PROTOCOL_VERSION;
    expect(code(frame(v, (w) => { w.string('ks@4'); w.varuint(0); }))).toBe('decoded');
    expect(code(frame(v, (w) => { w.string(''); w.varuint(0); }))).toBe(ErrorCode.DecodeInvalid);
    expect(code(frame(v, (w) => { w.string('x'.repeat(MAX_LOG_ID_BYTES + 1)); w.varuint(0); }))).toBe(ErrorCode.DecodeTooLarge);
    expect(code(frame(v, (w) => w.string('ks@4')))).toBe(ErrorCode.DecodeTruncated);
    expect(code(frame(v, (w) => { w.string('ks@4'); w.varuint(0); w.u8(0); }))).not.toBe('decoded');
    expect(code(frame(MIN_SYNC_PROTOCOL_VERSION - 1, (w) => { w.string('ks@4'); w.varuint(0); }))).toBe(ErrorCode.DecodeVersion);
    expect(() => encodeMessage({ type: 'log', channel: 1, logId: '', position: 0 })).toThrow();
  });

  it('rejects trailing bytes, unknown types and chunks that overflow their transfer', () => {
    const ack = encodeMessage({ type: 'ack', channel: 1, level: 'stored', seq: 1, position: 0 });
    expect(() => decodeMessage(new Uint8Array([...ack, 0]))).toThrow(DecodeError);
    expect(() => decodeMessage(new Uint8Array([SYNC_PROTOCOL_VERSION, 99, 1]))).toThrow(/unknown sync message type/);
    const chunk = encodeMessage({ type: 'chunk', channel: 1, seq: 1, kind: 'snapshot', position: 1, totalBytes: 3, checksum: 0, offset: 2, bytes: new Uint8Array([1, 2]) });
    expect(() => decodeMessage(chunk)).toThrow(/does not fit/);
    const seq0 = encodeMessage({ type: 'delta', channel: 1, seq: 0, position: 0, bytes: new Uint8Array([1]) });
    expect(() => decodeMessage(seq0)).toThrow(DecodeError);
    const big = encodeMessage({ type: 'delta', channel: 1, seq: 1, position: 0, bytes: new Uint8Array(100) });
    expect(() => decodeMessage(big, { maxPayloadBytes: 99 })).toThrow(/exceeds 99/);
  });

  it('fuzz: thousands of mutated frames decode or throw DecodeError, nothing else', () => {
    const seed = 0x5eed;
    const rnd = new SeededRandom(seed);
    const frames = sampleMessages().map((m) => encodeMessage(m));
    let decoded = 0;
    let rejected = 0;
    try {
      for (let i = 0; i < 5000; i++) {
        const f = new Uint8Array(rnd.pick(frames));
        let bytes: Uint8Array = f;
        const flips = 1 + rnd.int(4);
        for (let k = 0; k < flips; k++) {
          const op = rnd.int(4);
          if (op === 0 && bytes.length > 0) bytes[rnd.int(bytes.length)] = rnd.int(256);
          else if (op === 1) bytes = bytes.subarray(0, rnd.int(bytes.length + 1));
          else if (op === 2) bytes = new Uint8Array([...bytes, rnd.int(256)]);
          else if (bytes.length > 1) bytes[1 + rnd.int(bytes.length - 1)] ^= 1 << rnd.int(8);
        }
        try {
          const m = decodeMessage(bytes);
          // Whatever decodes re-encodes to the same bytes: the format is canonical.
          expect(encodeMessage(m)).toEqual(bytes);
          decoded++;
        } catch (e) {
          if (!(e instanceof DecodeError)) throw e;
          rejected++;
        }
      }
    } catch (e) {
      throw new Error(`sync codec fuzz failed with seed ${seed}: ${String(e)}`, { cause: e });
    }
    expect(decoded + rejected).toBe(5000);
    expect(rejected).toBeGreaterThan(1000);
  });
});
