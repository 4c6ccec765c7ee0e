// Unit tests of the Sequence: lists of JSON values, patches, pending items, contexts, GC.
import { describe, expect, it } from 'vitest';
import { CausalContext } from '../../../core/src/clock/causal-context.ts';
import { replicaId } from '../../../core/src/clock/replica-id.ts';
import { Reader } from '../../../core/src/codec/reader.ts';
import { Writer } from '../../../core/src/codec/writer.ts';
import { InvalidArgumentError } from '../../../core/src/errors.ts';
import type { JsonValue } from '../../../core/src/codec/json-value.ts';
import { listKind, textKind } from '../../../core/src/text/content.ts';
import { readDelta, writeDelta } from '../../../core/src/text/delta-codec.ts';
import type { DotClock } from '../../../core/src/text/delta.ts';
import { Sequence } from '../../../core/src/text/sequence.ts';
import { readState, writeState } from '../../../core/src/text/state-codec.ts';
import { TextDocument } from '../../../core/src/text/standalone-text.ts';

/** A clock that records its dots in `ctx`, as a Replica does. */
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

describe('Sequence of JSON values (list)', () => {
  it('inserts, deletes and syncs values, and round-trips its codecs', () => {
    const ctxA = new CausalContext();
    const ctxB = new CausalContext();
    const a = new Sequence<JsonValue[]>(replicaId(1), listKind);
    const b = new Sequence<JsonValue[]>(replicaId(2), listKind);
    const ca = clockFor(1, ctxA);
    const cb = clockFor(2, ctxB);
    b.apply(a.insert(0, [1, 'two', { three: 3 }], ca), ctxB);
    b.apply(a.delete(1, 1, ca), ctxB);
    a.apply(b.insert(2, [[4], null], cb), ctxA);
    expect(a.content().flat()).toEqual([1, { three: 3 }, [4], null]);
    expect(b.content().flat()).toEqual(a.content().flat());
    expect(ctxA.equals(ctxB)).toBe(true);
    const w = new Writer();
    writeDelta(w, listKind, a.since(new CausalContext())!);
    const fresh = new Sequence<JsonValue[]>(replicaId(3), listKind);
    const ctxC = new CausalContext();
    fresh.apply(readDelta(new Reader(w.finish()), listKind), ctxC);
    expect(fresh.content().flat()).toEqual(a.content().flat());
    expect(ctxC.equals(ctxA)).toBe(true);
    const ws = new Writer();
    writeState(ws, a);
    const loaded = readState(new Reader(ws.finish()), replicaId(4), listKind);
    expect(loaded.sequence.content().flat()).toEqual(a.content().flat());
    expect(loaded.dots.equals(ctxA)).toBe(true);
  });

  it('a text delta is rejected by a list decoder', () => {
    const w = new Writer();
    const s = new Sequence<string>(replicaId(1), textKind);
    writeDelta(w, textKind, s.insert(0, 'x', clockFor(1, new CausalContext())));
    expect(() => readDelta(new Reader(w.finish()), listKind)).toThrow(/content tag/);
  });
});

describe('Sequence', () => {
  it('rejects indexes outside the sequence', () => {
    const doc = new TextDocument(replicaId(1));
    doc.insert(0, 'abc');
    expect(() => doc.insert(4, 'x')).toThrow(InvalidArgumentError);
    expect(() => doc.delete(2, 2)).toThrow(InvalidArgumentError);
    expect(() => doc.cursor(-1)).toThrow(InvalidArgumentError);
  });

  it('stores a burst of typing as one run', () => {
    const doc = new TextDocument(replicaId(1));
    for (let i = 0; i < 100; i++) doc.insert(i, 'x');
    expect(doc.sequence.chunkCount).toBe(1);
    doc.insert(50, 'y');
    expect(doc.sequence.chunkCount).toBe(3);
  });

  it('returns index patches for remote edits', () => {
    const a = new TextDocument(replicaId(1));
    const b = new TextDocument(replicaId(2));
    b.apply(a.insert(0, 'hello'));
    expect(b.apply(a.insert(5, ' world'))).toEqual([{ kind: 'insert', index: 5, content: ' world' }]);
    expect(b.apply(a.delete(1, 3))).toEqual([{ kind: 'delete', index: 1, length: 3 }]);
    expect(b.toString()).toBe('ho world');
  });

  it('holds an item whose origin is missing until the origin arrives, and adds only integrated dots', () => {
    const a = new TextDocument(replicaId(1));
    const b = new TextDocument(replicaId(2));
    const d1 = a.insert(0, 'ab');
    const d2 = a.insert(1, 'X');
    const d3 = a.delete(0, 1);
    expect(b.apply(d3)).toEqual([]);
    expect(b.apply(d2)).toEqual([]);
    expect(b.sequence.pending.length).toBe(1);
    expect(b.context.has(replicaId(1), 3)).toBe(false);
    expect(b.context.has(replicaId(1), 4)).toBe(true);
    b.apply(d1);
    b.apply(d1);
    expect(b.toString()).toBe('Xb');
    expect(b.sequence.pending.length).toBe(0);
    expect(b.context.equals(a.context)).toBe(true);
    expect(b.since(a.context)).toBeUndefined();
  });

  it('GC merges tombstones of one run and folds stable delete records', () => {
    const a = new TextDocument(replicaId(1));
    a.insert(0, 'abcdefgh');
    for (let i = 0; i < 4; i++) a.delete(1, 1);
    // Deleting one by one from the middle leaves one tombstone chunk after merging.
    expect(a.sequence.chunkCount).toBe(3);
    // Four deletes in a row (consecutive dots, adjacent ids) are kept as one record.
    expect(a.sequence.log.recordCount).toBe(1);
    a.collectGarbage(a.context);
    expect(a.sequence.log.recordCount).toBe(0);
    expect(a.toString()).toBe('afgh');
    const b = new TextDocument(replicaId(2));
    b.mergeFrom(a);
    expect(b.toString()).toBe('afgh');
    expect(b.context.equals(a.context)).toBe(true);
  });

  it('memory stays proportional to the document: deleting everything leaves one tombstone run', () => {
    const a = new TextDocument(replicaId(1));
    for (let i = 0; i < 1000; i++) a.insert(i, 'x');
    for (let i = 0; i < 1000; i++) a.delete(a.length - 1, 1);
    expect(a.sequence.chunkCount).toBe(1);
    expect(a.length).toBe(0);
    expect(a.encodeState().length).toBeLessThan(40);
  });

  it('a cursor at the end stays at the end', () => {
    const a = new TextDocument(replicaId(1));
    a.insert(0, 'abc');
    const end = a.cursor(3);
    a.insert(3, 'de');
    expect(a.resolve(end)).toBe(5);
    const onC = a.cursor(2);
    a.delete(2, 1);
    expect(a.resolve(onC)).toBe(2);
  });
});

describe('Sequence API for the Replica', () => {
  it('text and list factories, toString/toArray, codec methods and readState', async () => {
    const { textSequence, listSequence } = await import('../../../core/src/text/make-sequence.ts');
    const ctx = new CausalContext();
    const clock = clockFor(1, ctx);
    const t = textSequence(replicaId(1));
    const d = t.insert(0, 'hey', clock);
    t.delete(1, 1, clock);
    expect(t.toString()).toBe('hy');
    expect(t.toArray()).toEqual(['h', 'y']);
    const w = new Writer();
    t.writeDelta(w, d);
    const other = textSequence(replicaId(2));
    const otherCtx = new CausalContext();
    other.apply(other.readDelta(new Reader(w.finish())), otherCtx);
    expect(other.toString()).toBe('hey');
    const ws = new Writer();
    t.writeState(ws);
    const dots = other.readState(new Reader(ws.finish()));
    expect(other.toString()).toBe('hy');
    expect(dots.equals(ctx)).toBe(true);
    const l = listSequence(replicaId(3));
    l.insert(0, [1, 2, 3], clockFor(3, new CausalContext()));
    expect(l.toArray()).toEqual([1, 2, 3]);
  });
});
