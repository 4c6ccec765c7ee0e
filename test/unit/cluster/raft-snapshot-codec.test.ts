// The two small formats of Raft snapshots: the snapshot data (members + KV state) and the
// configuration kept in the WAL's snapshot record. Round trips, and typed errors on bad bytes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../core/src/errors.ts';
import { decodeConfStateMeta, decodeRaftSnapshotData, encodeConfStateMeta, encodeRaftSnapshotData } from '../../../server/src/cluster/raft-snapshot.ts';

describe('Raft snapshot formats', () => {
  it('round-trips members with the KV snapshot, and configurations', () => {
    const data = { members: [{ id: 'n1', url: 'http://127.0.0.1:1', learner: false }, { id: 'n4', url: 'http://h:2', learner: true }], kv: new Uint8Array([1, 2, 3]) };
    expect(decodeRaftSnapshotData(encodeRaftSnapshotData(data))).toEqual(data);
    const cs = { voters: [1, 2 ** 32 - 1, 77], learners: [5] };
    expect(decodeConfStateMeta(encodeConfStateMeta(cs))).toEqual(cs);
  });

  it('an empty WAL snapshot record (a LocalNode WAL) is not a configuration', () => {
    expect(() => decodeConfStateMeta(new Uint8Array(0))).toThrow(DecodeError);
  });

  it('truncated or mutated bytes give DecodeError, never another exception', () => {
    const good = encodeRaftSnapshotData({ members: [{ id: 'n1', url: 'u', learner: false }], kv: new Uint8Array(10) });
    for (let n = 0; n < good.length; n++) expect(() => decodeRaftSnapshotData(good.subarray(0, n))).toThrow(DecodeError);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 48 }), (b) => {
        for (const decode of [decodeRaftSnapshotData, decodeConfStateMeta]) {
          try {
            decode(b);
          } catch (e) {
            if (!(e instanceof DecodeError)) throw e;
          }
        }
      }),
      { seed: 61, numRuns: 1_000 },
    );
  });
});
