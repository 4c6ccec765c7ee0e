// The linearizability checker itself: it must reject known non-linearizable histories and
// accept linearizable ones (including random histories built around linearization points).
import { describe, expect, it } from 'vitest';
import { Prng } from '../../core/src/testing/prng.ts';
import { type KvInput, type KvOutput, type Operation, checkHistory, stepModel } from './checkers/linearizability.ts';

let nextClient = 1;
function op(input: KvInput, output: KvOutput | undefined, call: number, ret: number): Operation {
  return { clientId: nextClient++, input, output, call, ret };
}
const put = (value: string): KvInput => ({ kind: 'put', key: 'k', value });
const get: KvInput = { kind: 'get', key: 'k' };

describe('linearizability checker', () => {
  it('rejects a stale read after a completed write', () => {
    expect(checkHistory([op(put('1'), {}, 0, 1), op(get, { value: null }, 2, 3)]).ok).toBe(false);
  });

  it('rejects reads that go backwards', () => {
    const h = [op(put('1'), {}, 0, 1), op(put('2'), {}, 2, 3), op(get, { value: '2' }, 4, 5), op(get, { value: '1' }, 6, 7)];
    expect(checkHistory(h).ok).toBe(false);
  });

  it('rejects two successful compare-and-sets from the same expected value', () => {
    const h = [
      op({ kind: 'cas', key: 'k', expected: null, value: 'a' }, { ok: true }, 0, 1),
      op({ kind: 'cas', key: 'k', expected: null, value: 'b' }, { ok: true }, 2, 3),
    ];
    expect(checkHistory(h).ok).toBe(false);
  });

  it('rejects a read of the old value after another reader saw the new one (concurrent write)', () => {
    const h = [op(put('1'), {}, 0, 10), op(get, { value: '1' }, 1, 2), op(get, { value: null }, 3, 4)];
    expect(checkHistory(h).ok).toBe(false);
  });

  it('rejects a value nobody wrote, and a delete that did not take', () => {
    expect(checkHistory([op(get, { value: 'ghost' }, 0, 1)]).ok).toBe(false);
    const h = [op(put('1'), {}, 0, 1), op({ kind: 'delete', key: 'k' }, {}, 2, 3), op(get, { value: '1' }, 4, 5)];
    expect(checkHistory(h).ok).toBe(false);
  });

  it('accepts concurrent reads on either side of a concurrent write', () => {
    const h = [op(put('1'), {}, 0, 10), op(get, { value: null }, 1, 2), op(get, { value: '1' }, 3, 4)];
    expect(checkHistory(h).ok).toBe(true);
  });

  it('treats an unanswered operation as possibly applied at any later point, or never', () => {
    const pending = op(put('1'), undefined, 0, Infinity);
    expect(checkHistory([pending, op(get, { value: '1' }, 5, 6)]).ok).toBe(true);
    expect(checkHistory([pending, op(get, { value: null }, 5, 6)]).ok).toBe(true);
    expect(checkHistory([pending, op(get, { value: '1' }, 5, 6), op(get, { value: null }, 7, 8)]).ok).toBe(false);
  });

  it('many unanswered writes (a partition) stay cheap to check, and violations are still found', () => {
    const lost = Array.from({ length: 40 }, (_, i) => op(put(`lost-${i}`), undefined, i, Infinity));
    const done = [op(put('a'), {}, 100, 101), op(get, { value: 'a' }, 102, 103), op(get, { value: 'lost-3' }, 104, 105)];
    const ok = checkHistory([...lost, ...done], 100_000);
    expect(ok).toEqual({ ok: true, steps: ok.steps, exhausted: undefined });
    // lost-3 was seen after 'a', so 'a' cannot come back; and nothing ever deleted.
    for (const bad of [op(get, { value: 'a' }, 106, 107), op(get, { value: null }, 106, 107)]) {
      const r = checkHistory([...lost, ...done, bad], 100_000);
      expect(r.ok).toBe(false);
      expect(r.exhausted ?? false).toBe(false);
    }
  });

  it('checks keys independently (P-compositionality)', () => {
    const h = [
      op({ kind: 'put', key: 'a', value: '1' }, {}, 0, 1),
      op({ kind: 'get', key: 'b' }, { value: null }, 2, 3),
      op({ kind: 'get', key: 'a' }, { value: null }, 4, 5),
    ];
    const r = checkHistory(h);
    expect(r.ok).toBe(false);
    expect(r.badKey).toBe('a');
  });

  it('accepts random histories built around linearization points, and rejects them with one read corrupted', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const prng = new Prng(seed);
      const n = prng.range(2, 40);
      let state: string | null = null;
      const ops: Operation[] = [];
      for (let i = 0; i < n; i++) {
        const point = i * 10 + 5;
        const r = prng.int(4);
        const input: KvInput =
          r === 0 ? get : r === 1 ? put(`v${i}`) : r === 2 ? { kind: 'delete', key: 'k' } : { kind: 'cas', key: 'k', expected: prng.chance(0.5) ? state : `v${prng.int(i + 1)}`, value: `v${i}` };
        const before = state;
        state = stepModel(state, input, undefined) ?? null;
        const output: KvOutput = input.kind === 'get' ? { value: before } : input.kind === 'cas' ? { ok: before === input.expected } : {};
        ops.push(op(input, output, point - prng.range(1, 25), point + prng.range(1, 25)));
      }
      expect(checkHistory(ops).ok, `seed ${seed}`).toBe(true);
      const reads = ops.filter((o) => o.input.kind === 'get');
      if (reads.length > 0) {
        const victim = reads[prng.int(reads.length)]!;
        victim.output = { value: 'never-written' };
        expect(checkHistory(ops).ok, `seed ${seed} corrupted`).toBe(false);
      }
    }
  });
});
