// The demo editor's pure parts: the edit a textarea change stands for (diffAtCaret), and
// how remote index patches move the text and the local caret (applyPatches, shiftOffset),
// checked by examples and against a real text CRDT with fast-check (fixed seed).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { replicaIdFromBytes } from '../../../core/src/clock/index.ts';
import { Replica } from '../../../core/src/doc/replica.ts';
import { type Patch, PatchKind } from '../../../core/src/text/delta.ts';
import { applyPatches, diffAtCaret, shiftOffset } from '../../../demo-app/src/text-binding.ts';

const SEED = Number(process.env.DEMO_TEXT_SEED ?? 20261125);

function replica(n: number): Replica {
  return new Replica({ replicaId: replicaIdFromBytes(new Uint8Array([n, 0, 0, 0, 0, 0, 1])), now: () => 1_700_000_000_000 });
}

describe('diffAtCaret', () => {
  it('places a typed letter at the caret, not at the first equal spot', () => {
    // "aa" → "aaa" with the caret after the first letter typed: the new "a" is at 1.
    expect(diffAtCaret('aa', 'aaa', 2)).toEqual({ index: 1, removed: 0, inserted: 'a' });
    expect(diffAtCaret('aa', 'aaa', 3)).toEqual({ index: 2, removed: 0, inserted: 'a' });
  });

  it('finds deletions and replacements', () => {
    expect(diffAtCaret('hello world', 'hello', 5)).toEqual({ index: 5, removed: 6, inserted: '' });
    expect(diffAtCaret('hello world', 'hello there', 11)).toEqual({ index: 6, removed: 5, inserted: 'there' });
    expect(diffAtCaret('abc', 'abc', 1)).toEqual({ index: 3, removed: 0, inserted: '' });
  });

  it('always reproduces the new text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), fc.nat(14), (prev, next, caret) => {
        const e = diffAtCaret(prev, next, caret);
        expect(prev.slice(0, e.index) + e.inserted + prev.slice(e.index + e.removed)).toBe(next);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});

describe('diffAtCaret with characters of two UTF-16 units', () => {
  it('never splits a surrogate pair (the text CRDT refuses such edits)', () => {
    expect(diffAtCaret('a😀b', 'a😁b', 3)).toEqual({ index: 1, removed: 2, inserted: '😁' });
    expect(diffAtCaret('😀', '😀😀', 4)).toEqual({ index: 2, removed: 0, inserted: '😀' });
  });

  it('every edit between two emoji-laden texts applies to the text CRDT and gives the new text', () => {
    const unit = fc.constantFrom('a', 'b', '😀', '😁', '🙂', 'é');
    fc.assert(
      fc.property(fc.string({ maxLength: 8, unit }), fc.string({ maxLength: 8, unit }), fc.nat(20), (prev, next, caret) => {
        const r = replica(1);
        const t = r.text('doc');
        if (prev.length > 0) t.insert(0, prev);
        const e = diffAtCaret(prev, next, caret);
        if (e.removed > 0) t.delete(e.index, e.removed);
        if (e.inserted.length > 0) t.insert(e.index, e.inserted);
        expect(t.toString()).toBe(next);
      }),
      { seed: SEED, numRuns: 400 },
    );
  });
});

describe('shiftOffset', () => {
  it('keeps a caret before text inserted exactly at it, and clamps into deletions', () => {
    const ins: Patch<unknown> = { kind: PatchKind.Insert, index: 3, content: 'xy' };
    expect([shiftOffset(2, ins), shiftOffset(3, ins), shiftOffset(4, ins)]).toEqual([2, 3, 6]);
    const del: Patch<unknown> = { kind: PatchKind.Delete, index: 3, length: 2 };
    expect([shiftOffset(3, del), shiftOffset(4, del), shiftOffset(5, del), shiftOffset(7, del)]).toEqual([3, 3, 3, 5]);
  });
});

describe('remote patches against the text CRDT', () => {
  it('applying a peer\'s patches to the shown text gives the replica\'s text, and the caret stays on its letter', () => {
    const edit = fc.record({ at: fc.nat(40), del: fc.nat(4), text: fc.string({ minLength: 0, maxLength: 5, unit: fc.constantFrom('a', 'b', 'c', ' ') }) });
    fc.assert(
      fc.property(fc.array(edit, { maxLength: 12 }), fc.array(edit, { maxLength: 12 }), fc.nat(60), (mine, theirs, caretSeed) => {
        const a = replica(1);
        const b = replica(2);
        a.text('t').insert(0, 'The quick brown fox');
        b.applyDelta(a.deltaSince(b.contextOf()));
        const run = (r: Replica, edits: typeof mine): void => {
          for (const e of edits) {
            const t = r.text('t');
            const at = e.at % (t.length + 1);
            const del = Math.min(e.del, t.length - at);
            if (del > 0) t.delete(at, del);
            if (e.text.length > 0) t.insert(at, e.text);
          }
        };
        run(a, mine);
        run(b, theirs);
        // A's view: its own text with a caret; B's changes arrive as index patches.
        const shown = a.text('t').toString();
        let caret = caretSeed % (shown.length + 1);
        const before = shown[caret];
        const events = a.applyDelta(b.deltaSince(a.contextOf()));
        let value = shown;
        for (const ev of events) {
          if (ev.key !== 't' || ev.patches === undefined) continue;
          value = applyPatches(value, ev.patches);
          for (const p of ev.patches) caret = shiftOffset(caret, p);
        }
        expect(value).toBe(a.text('t').toString());
        // The letter after the caret is the same letter (unless a peer deleted it).
        if (before !== undefined && value[caret] !== before) expect(theirs.some((e) => e.del > 0)).toBe(true);
      }),
      { seed: SEED, numRuns: 200 },
    );
  });
});
