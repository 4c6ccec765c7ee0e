// fast-check laws about what users see: concurrent runs typed at one place never
// interleave, a cursor stays on its character, and undo after concurrent remote edits
// removes exactly the local change (redo brings it back).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { replicaId } from '../../core/src/clock/replica-id.ts';
import type { TextDocument as Doc } from '../../core/src/text/standalone-text.ts';
import { TextDocument } from '../../core/src/text/standalone-text.ts';
import { UndoManager } from '../../core/src/text/undo-manager.ts';
import { SEED, syncAll } from './text-helpers.ts';

function pair(base: string, ra: number, rb: number): [Doc, Doc] {
  const a = new TextDocument(replicaId(ra));
  const b = new TextDocument(replicaId(rb));
  a.insert(0, base);
  b.mergeFrom(a);
  return [a, b];
}

/** Types `run` one character at a time at `at`, forwards (each after the last) or backwards. */
function type(doc: Doc, at: number, run: string, backwards: boolean): void {
  for (let i = 0; i < run.length; i++) {
    if (backwards) doc.insert(at, run[run.length - 1 - i]!);
    else doc.insert(at + i, run[i]!);
  }
}

describe('text CRDT intent', () => {
  it('two runs typed concurrently at the same place do not interleave', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom('-', '.'), maxLength: 8 }),
        fc.nat(8),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 8 }),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 1, max: 1000 }),
        (base, at0, na, nb, backA, backB, ra, rb) => {
          fc.pre(ra !== rb);
          const at = at0 % (base.length + 1);
          const [a, b] = pair(base, ra, rb);
          const runA = 'A'.repeat(na);
          const runB = 'B'.repeat(nb);
          type(a, at, runA, backA);
          type(b, at, runB, backB);
          syncAll([a, b]);
          const text = a.toString();
          expect(b.toString()).toBe(text);
          const merged = text.slice(at, at + na + nb);
          expect(merged === runA + runB || merged === runB + runA).toBe(true);
        },
      ),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('a cursor stays on its character across concurrent edits elsewhere', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom('a', 'b', 'c'), minLength: 1, maxLength: 20 }),
        fc.nat(100),
        fc.array(fc.record({ who: fc.nat(1), ins: fc.boolean(), at: fc.nat(100), text: fc.string({ unit: fc.constantFrom('x', 'y'), minLength: 1, maxLength: 3 }) }), { maxLength: 20 }),
        (base, pick, edits) => {
          const [a, b] = pair(base, 1, 2);
          const index = pick % base.length;
          // Mark the character so it can be recognised later.
          a.delete(index, 1);
          a.insert(index, '#');
          b.mergeFrom(a);
          const cursor = a.cursor(index);
          for (const e of edits) {
            const doc = e.who === 0 ? a : b;
            const len = doc.length;
            const hash = doc.toString().indexOf('#');
            if (e.ins) doc.insert(e.at % (len + 1), e.text);
            else if (len > 1) {
              // Delete one character that is not the marked one.
              let at = e.at % len;
              if (at === hash) at = (at + 1) % len;
              doc.delete(at, 1);
            }
          }
          syncAll([a, b]);
          for (const doc of [a, b]) {
            const i = doc.resolve(cursor);
            expect(doc.toString()[i]).toBe('#');
          }
        },
      ),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('undo after concurrent remote edits removes exactly the local change; redo brings it back', () => {
    undoLaw(1000);
  });

  it('the same, one step per edit, undone step by step and redone step by step', () => {
    undoLaw(0);
  });
});

function undoLaw(captureTimeoutMs: number): void {
    const edit = fc.record({ ins: fc.boolean(), at: fc.nat(100), len: fc.integer({ min: 1, max: 3 }), text: fc.string({ unit: fc.constantFrom('p', 'q', 'r'), minLength: 1, maxLength: 3 }) });
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 10 }), fc.array(edit, { maxLength: 10 }), (localEdits, remoteEdits) => {
        // A edits only inside the first 10 characters, B only after them, so the
        // expected text without A's change is well defined: base plus B's edits.
        const base = 'abcdefghij0123456789';
        const [a, b] = pair(base, 1, 2);
        const expectB = new TextDocument(replicaId(3));
        expectB.mergeFrom(a);
        const undo = new UndoManager(a.sequence, a, { captureTimeoutMs });
        let regionA = 10;
        let t = 0;
        for (const e of localEdits) {
          if (e.ins) {
            undo.insert(e.at % (regionA + 1), e.text, t++);
            regionA += e.text.length;
          } else if (regionA > 0) {
            const at = e.at % regionA;
            const k = Math.min(e.len, regionA - at);
            undo.delete(at, k, t++);
            regionA -= k;
          }
        }
        for (const e of remoteEdits) {
          for (const doc of [b, expectB]) {
            const len = doc.length;
            if (e.ins) doc.insert(10 + (e.at % (len - 10 + 1)), e.text);
            else if (len > 10) {
              const at = 10 + (e.at % (len - 10));
              doc.delete(at, Math.min(e.len, len - at));
            }
          }
        }
        syncAll([a, b]);
        const withBoth = a.toString();
        expect(undo.canUndo).toBe(true);
        while (undo.canUndo) b.apply(undo.undo()!);
        expect(a.toString()).toBe(expectB.toString());
        expect(b.toString()).toBe(expectB.toString());
        while (undo.canRedo) b.apply(undo.redo()!);
        expect(a.toString()).toBe(withBoth);
        expect(b.toString()).toBe(withBoth);
      }),
      { seed: SEED, numRuns: 200 },
    );
}
