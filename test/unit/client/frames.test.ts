// The binary client protocol's frames: every request and response round-trips, and the
// validating decoders turn any bad input into a DecodeError (never another exception).
import fc from 'fast-check';
import { encodeCommand } from '../../../core/src/kv/command-codec.ts';
import { describe, expect, it } from 'vitest';
import { ClientOp, decodeRequest, decodeResponse, encodeRequest, encodeResponse, peekRequestId, ResponseKind, type ClientRequest, type ClientResponse } from '../../../core/src/client/frames.ts';
import { DecodeError } from '../../../core/src/errors.ts';
import { KvLimitError } from '../../../core/src/kv/errors.ts';

const requests: ClientRequest[] = [
  { op: ClientOp.Propose, id: 1, timeoutMs: 5_000, command: { type: 'put', ks: 'default', key: 'a', value: { x: [1, 'two', null] } } as never },
  { op: ClientOp.Propose, id: 2 ** 40, timeoutMs: 1, command: { type: 'delete', ks: 'k', key: 'b' } as never },
  { op: ClientOp.Read, id: 7, consistency: 'strong', ks: 'default', key: 'é/ü', minVersion: 0, timeoutMs: 100 },
  { op: ClientOp.Read, id: 8, consistency: 'causal', ks: 'x', key: '', minVersion: 42, timeoutMs: 100 },
  { op: ClientOp.Cluster, id: 9 },
];
const responses: ClientResponse[] = [
  { kind: ResponseKind.Result, id: 1, result: { status: 'ok', version: 12 } },
  { kind: ResponseKind.Result, id: 2, result: { status: 'conflict', key: 'a', version: 3 } },
  { kind: ResponseKind.Entry, id: 3, entry: { type: 'register', value: 'v', version: 4 } },
  { kind: ResponseKind.Entry, id: 4, entry: undefined },
  { kind: ResponseKind.Error, id: 5, code: 'NO_QUORUM', message: 'no leader' },
  { kind: ResponseKind.Cluster, id: 6, nodeId: 'n1', leaderId: 'n2', leaderUrl: 'http://127.0.0.1:1' },
];

describe('client protocol frames', () => {
  it('round-trips every request and response', () => {
    for (const r of requests) {
      const decoded = decodeRequest(encodeRequest(r));
      expect(decoded).toEqual(r.op === ClientOp.Propose ? { ...r, commandBytes: encodeCommand(r.command) } : r);
    }
    for (const r of responses) expect(decodeResponse(encodeResponse(r))).toEqual(r);
  });

  it('rejects unknown versions, ops, kinds, trailing bytes and truncation with DecodeError', () => {
    const good = encodeRequest(requests[0]!);
    const badVersion = good.slice();
    badVersion[0] = 9;
    expect(() => decodeRequest(badVersion)).toThrow(DecodeError);
    const badOp = good.slice();
    badOp[1] = 77;
    expect(() => decodeRequest(badOp)).toThrow(/unknown request op 77/);
    expect(() => decodeRequest(new Uint8Array([...good, 0]))).toThrow(DecodeError);
    for (let n = 0; n < good.length; n++) expect(() => decodeRequest(good.subarray(0, n))).toThrow(DecodeError);
    const res = encodeResponse(responses[2]!);
    for (let n = 0; n < res.length; n++) expect(() => decodeResponse(res.subarray(0, n))).toThrow(DecodeError);
    // A readable header with a bad body still yields the id to answer.
    expect(peekRequestId(good.subarray(0, 4))).toBe(1);
    expect(peekRequestId(new Uint8Array([1]))).toBeUndefined();
  });

  it('never throws anything but DecodeError on arbitrary or mutated bytes', () => {
    const seeds = [...requests.map((r) => encodeRequest(r)), ...responses.map((r) => encodeResponse(r))];
    fc.assert(
      fc.property(fc.nat(seeds.length - 1), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.uint8Array({ maxLength: 64 }), (which, flips, junk) => {
        const b = seeds[which]!.slice();
        for (const [at, v] of flips) b[at % b.length] = v;
        for (const input of [b, junk]) {
          for (const decode of [decodeRequest, decodeResponse]) {
            try {
              decode(input);
            } catch (e) {
              // Limits on a decoded command (value size, key length) are typed KvLimitErrors.
              if (!(e instanceof DecodeError) && !(e instanceof KvLimitError)) throw e;
            }
          }
        }
      }),
      { seed: 6, numRuns: 2_000 },
    );
  });
});
