// Decoder fuzz for the text CRDT's wire formats: thousands of random and mutated valid
// delta and state encodings. Only DecodeError may escape, and a rejected message leaves the
// document exactly as it was. Decoded-but-mutated deltas must apply without throwing.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { replicaId } from '../../core/src/clock/replica-id.ts';
import { DecodeError } from '../../core/src/errors.ts';
import { TextDocument } from '../../core/src/text/standalone-text.ts';
import { SEED } from './text-helpers.ts';

/** A small session whose encodings are the fuzz corpus. */
function corpus(): { deltas: Uint8Array[]; states: Uint8Array[]; target: TextDocument } {
  const a = new TextDocument(replicaId(1));
  const b = new TextDocument(replicaId(300));
  const deltas: Uint8Array[] = [];
  deltas.push(a.encodeDelta(a.insert(0, 'hello world')));
  deltas.push(b.encodeDelta(b.insert(0, 'héllo ✓')));
  b.mergeFrom(a);
  deltas.push(a.encodeDelta(a.delete(2, 4)));
  deltas.push(b.encodeDelta(b.insert(3, 'XYZ')));
  deltas.push(b.encodeDelta(b.delete(0, 2)));
  a.mergeFrom(b);
  deltas.push(a.encodeDelta(a.since(b.context)!));
  deltas.push(b.encodeDelta(b.since(new TextDocument(replicaId(9)).context)!));
  const states = [a.encodeState(), b.encodeState()];
  const target = new TextDocument(replicaId(5));
  target.insert(0, 'target text');
  return { deltas, states, target };
}

const mutation = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: fc.nat(255) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), value: fc.nat(255) }),
  fc.record({ op: fc.constant('remove' as const), at: fc.nat() }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(bytes: Uint8Array, ms: Mutation[]): Uint8Array {
  let b = Array.from(bytes);
  for (const m of ms) {
    if (b.length === 0) break;
    const at = m.at % b.length;
    switch (m.op) {
      case 'flip':
        b[at] = b[at]! ^ (1 << m.bit);
        break;
      case 'set':
        b[at] = m.value;
        break;
      case 'truncate':
        b = b.slice(0, at);
        break;
      case 'insert':
        b.splice(at, 0, m.value);
        break;
      case 'remove':
        b.splice(at, 1);
        break;
    }
  }
  return Uint8Array.from(b);
}

function snapshot(doc: TextDocument): string {
  return `${doc.toString()}|${Buffer.from(doc.encodeState()).toString('hex')}|${doc.context.size}`;
}

function tryDelta(doc: TextDocument, bytes: Uint8Array): void {
  const before = snapshot(doc);
  try {
    doc.apply(doc.decodeDelta(bytes));
  } catch (e) {
    expect(e).toBeInstanceOf(DecodeError);
    expect(snapshot(doc)).toBe(before);
  }
}

function tryState(doc: TextDocument, bytes: Uint8Array): void {
  const before = snapshot(doc);
  try {
    doc.loadState(bytes);
    // Whatever loaded must still work as a document.
    doc.insert(0, 'k');
    doc.toString();
  } catch (e) {
    expect(e).toBeInstanceOf(DecodeError);
    expect(snapshot(doc)).toBe(before);
  }
}

describe('text codec fuzz', () => {
  const { deltas, states, target } = corpus();

  it('valid encodings decode and apply', () => {
    const doc = target.fork(replicaId(6));
    for (const d of deltas) doc.apply(doc.decodeDelta(d));
    const loaded = new TextDocument(replicaId(7));
    for (const s of states) loaded.loadState(s);
  });

  it('mutated deltas: only DecodeError, and nothing changes when rejected', () => {
    fc.assert(
      fc.property(fc.nat(deltas.length - 1), fc.array(mutation, { minLength: 1, maxLength: 4 }), (i, ms) => {
        tryDelta(target.fork(replicaId(6)), mutate(deltas[i]!, ms));
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it('mutated states: only DecodeError, and nothing changes when rejected', () => {
    fc.assert(
      fc.property(fc.nat(states.length - 1), fc.array(mutation, { minLength: 1, maxLength: 4 }), (i, ms) => {
        tryState(target.fork(replicaId(6)), mutate(states[i]!, ms));
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it('random bytes: only DecodeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.boolean(), (bytes, asState) => {
        const doc = target.fork(replicaId(6));
        if (asState) tryState(doc, bytes);
        else tryDelta(doc, bytes);
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });
});
