// The delta codec: round trips, and a fuzzer that feeds many thousands of random and
// mutated encodings to the decoder. Only DecodeError may escape, and a replica that
// rejects a message is unchanged.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ReplicaId } from '../../core/src/clock/replica-id.ts';
import { decodeDelta } from '../../core/src/codec/delta/decoder.ts';
import { DecodeError } from '../../core/src/errors.ts';
import { Replica } from '../../core/src/doc/replica.ts';
import { describeCrdt } from '../../core/src/testing/describe-crdt.ts';

type Action = { op: number; key: number; v: number };
const actions = fc.array(fc.record({ op: fc.integer({ min: 0, max: 7 }), key: fc.integer({ min: 0, max: 4 }), v: fc.integer({ min: -3, max: 1000 }) }), { maxLength: 25 });

/** Two replicas with a random shared history, so deltas carry removals, bases and watermarks. */
function history(list: readonly Action[]): Replica[] {
  const rs = [1, 2].map((id) => new Replica({ replicaId: id as ReplicaId, now: () => 1000 }));
  list.forEach((a, i) => {
    const r = rs[i % 2]!;
    const key = `k${a.key}`;
    try {
      switch (a.op) {
        case 0:
          r.put(key, a.v % 2 === 0 ? a.v : { s: `v${a.v}`, list: [a.v, null, true] });
          break;
        case 1:
          r.counter(`c${a.key}`).increment(a.v);
          break;
        case 2:
          r.set(`s${a.key}`).add(a.v % 5);
          break;
        case 3:
          r.set(`s${a.key}`).remove(a.v % 5);
          break;
        case 4:
          r.map(`m${a.key}`).counter('n').increment(a.v);
          break;
        case 5:
          r.delete(`${'kcsm'[a.v & 3]}${a.key}`);
          break;
        case 6:
          r.map(`m${a.key}`).set('f', (a.v % 3 === 0 ? 'é😀' : 'x').repeat(Math.abs(a.v) % 300));
          break;
        default: {
          const other = rs[(i + 1) % 2]!;
          other.applyDelta(r.deltaSince(other.contextOf()));
        }
      }
    } catch (e) {
      // A key may already hold another type: that op is refused, as users would see.
      if (!(e instanceof Error && 'code' in e && e.code === 'TYPE_MISMATCH')) throw e;
    }
  });
  return rs;
}

function describeReplica(r: Replica): string {
  return describeCrdt((r as unknown as { state: Parameters<typeof describeCrdt>[0] }).state);
}

describe('delta codec', () => {
  it('round-trips every delta and snapshot: decoding gives the same state', () => {
    fc.assert(
      fc.property(actions, (list) => {
        const [a, b] = history(list) as [Replica, Replica];
        const viaObject = new Replica({ replicaId: 9 as ReplicaId });
        const viaBytes = new Replica({ replicaId: 9 as ReplicaId });
        const d = a.deltaSince(b.contextOf());
        viaObject.applyDelta(d);
        viaBytes.applyDelta(a.encodeDelta(d));
        expect(describeReplica(viaBytes)).toBe(describeReplica(viaObject));
        const copy = Replica.decode(b.encode(), { replicaId: 2 as ReplicaId });
        expect(describeReplica(copy)).toBe(describeReplica(b));
      }),
      { numRuns: 200, seed: 21 },
    );
  });

  it('fuzz: random and mutated encodings throw only DecodeError and leave the replica unchanged', () => {
    let decoded = 0;
    let rejected = 0;
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bits: fc.integer({ min: 1, max: 255 }) }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('big' as const), at: fc.nat() }),
    );
    fc.assert(
      fc.property(actions, fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.uint8Array({ maxLength: 64 }), (list, muts, noise) => {
        const [a, b] = history(list) as [Replica, Replica];
        const valid = a.encodeDelta(a.deltaSince(b.contextOf()));
        const candidates = [noise, mutate(valid, muts), mutate(b.encode(), muts)];
        for (const bytes of candidates) {
          const before = describeReplica(b);
          try {
            decodeDelta(bytes);
            b.applyDelta(bytes);
            decoded++;
          } catch (e) {
            if (!(e instanceof DecodeError)) throw e;
            expect(typeof e.code).toBe('string');
            expect(describeReplica(b)).toBe(before);
            rejected++;
          }
        }
      }),
      { numRuns: 3000, seed: 22 },
    );
    // The fuzzer must exercise both paths, or it proves nothing.
    expect(rejected).toBeGreaterThan(1000);
    expect(decoded).toBeGreaterThan(10);
  });
});

type Mutation =
  | { kind: 'flip'; at: number; bits: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; byte: number }
  | { kind: 'delete'; at: number }
  | { kind: 'big'; at: number };

function mutate(input: Uint8Array, muts: readonly Mutation[]): Uint8Array {
  let bytes = Array.from(input);
  for (const m of muts) {
    const at = bytes.length === 0 ? 0 : m.at % bytes.length;
    switch (m.kind) {
      case 'flip':
        if (bytes.length > 0) bytes[at] = bytes[at]! ^ m.bits;
        break;
      case 'truncate':
        bytes = bytes.slice(0, at);
        break;
      case 'insert':
        bytes.splice(at, 0, m.byte);
        break;
      case 'delete':
        bytes.splice(at, 1);
        break;
      case 'big':
        // A forged huge varint where a count or length belongs.
        bytes.splice(at, 0, 0xff, 0xff, 0xff, 0xff, 0x0f);
        break;
    }
  }
  return new Uint8Array(bytes);
}
