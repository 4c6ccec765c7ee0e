// The list sequence (JSON values) against a plain array: local edits match the oracle, and
// two replicas exchanging deltas through the codec converge.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CausalContext } from '../../core/src/clock/causal-context.ts';
import { replicaId } from '../../core/src/clock/replica-id.ts';
import type { JsonValue } from '../../core/src/codec/json-value.ts';
import { Reader } from '../../core/src/codec/reader.ts';
import { Writer } from '../../core/src/codec/writer.ts';
import type { DotClock, SequenceDelta } from '../../core/src/text/delta.ts';
import { listSequence } from '../../core/src/text/make-sequence.ts';
import { SEED } from './text-helpers.ts';

function clockFor(replica: number, ctx: CausalContext): DotClock {
  let counter = 0;
  return {
    next(count) {
      const first = counter + 1;
      counter += count;
      ctx.addRange(replicaId(replica), first, counter);
      return first;
    },
  };
}

const value = fc.oneof(fc.integer(), fc.string({ maxLength: 3 }), fc.constant(null), fc.boolean());

describe('list sequence', () => {
  it('matches a plain array and converges across two replicas', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ who: fc.nat(1), ins: fc.boolean(), at: fc.nat(100), len: fc.integer({ min: 1, max: 3 }), values: fc.array(value, { minLength: 1, maxLength: 3 }) }), { maxLength: 40 }),
        (ops) => {
          const ctxs = [new CausalContext(), new CausalContext()];
          const seqs = [listSequence(replicaId(1)), listSequence(replicaId(2))];
          const clocks = [clockFor(1, ctxs[0]!), clockFor(2, ctxs[1]!)];
          const oracles: JsonValue[][] = [[], []];
          const outbox: Uint8Array[][] = [[], []];
          const w = new Writer();
          for (const op of ops) {
            const i = op.who;
            const seq = seqs[i]!;
            let d: SequenceDelta<JsonValue[]>;
            if (op.ins) {
              const at = op.at % (seq.length + 1);
              d = seq.insert(at, op.values, clocks[i]!);
              oracles[i]!.splice(at, 0, ...op.values);
            } else {
              if (seq.length === 0) continue;
              const at = op.at % seq.length;
              const k = Math.min(op.len, seq.length - at);
              d = seq.delete(at, k, clocks[i]!);
              oracles[i]!.splice(at, k);
            }
            w.reset();
            seq.writeDelta(w, d);
            outbox[i]!.push(w.finish());
            expect(seq.toArray()).toEqual(oracles[i]);
          }
          for (let i = 0; i < 2; i++) {
            const other = seqs[1 - i]!;
            for (const bytes of outbox[i]!) other.apply(other.readDelta(new Reader(bytes)), ctxs[1 - i]!);
          }
          expect(seqs[0]!.toArray()).toEqual(seqs[1]!.toArray());
          expect(ctxs[0]!.equals(ctxs[1]!)).toBe(true);
        },
      ),
      { seed: SEED, numRuns: 200 },
    );
  });
});
