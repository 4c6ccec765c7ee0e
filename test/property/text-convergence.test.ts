// fast-check laws of the text CRDT: random concurrent sessions across 3-5 replicas with
// random delivery (reorder, duplicate, drop then resend via `since`, GC) converge; every
// replica's text always equals a naive string updated by its local edits and its patches.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { replicaId } from '../../core/src/clock/replica-id.ts';
import { TextDocument } from '../../core/src/text/standalone-text.ts';
import { applyToMirror, SEED, stableOf, syncAll } from './text-helpers.ts';

type Cmd =
  | { t: 'ins'; r: number; at: number; text: string }
  | { t: 'del'; r: number; at: number; len: number }
  | { t: 'deliver'; r: number; pick: number; keep: boolean }
  | { t: 'drop'; r: number; pick: number }
  | { t: 'sync'; a: number; b: number }
  | { t: 'gc'; r: number };

const cmd = fc.oneof(
  { weight: 4, arbitrary: fc.record({ t: fc.constant('ins' as const), r: fc.nat(4), at: fc.nat(1000), text: fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'x', 'y', 'é', '\n'), minLength: 1, maxLength: 5 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('del' as const), r: fc.nat(4), at: fc.nat(1000), len: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('deliver' as const), r: fc.nat(4), pick: fc.nat(1000), keep: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('drop' as const), r: fc.nat(4), pick: fc.nat(1000) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('sync' as const), a: fc.nat(4), b: fc.nat(4) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('gc' as const), r: fc.nat(4) }) },
);

function run(n: number, cmds: Cmd[]): void {
  const docs = Array.from({ length: n }, (_, i) => new TextDocument(replicaId(i + 1)));
  const mirrors = docs.map(() => '');
  const inbox: Uint8Array[][] = docs.map(() => []);
  const broadcast = (from: number, bytes: Uint8Array): void => {
    for (let i = 0; i < n; i++) if (i !== from) inbox[i]!.push(bytes);
  };
  for (const c of cmds) {
    switch (c.t) {
      case 'ins': {
        const r = c.r % n;
        const at = c.at % (docs[r]!.length + 1);
        broadcast(r, docs[r]!.encodeDelta(docs[r]!.insert(at, c.text)));
        mirrors[r] = mirrors[r]!.slice(0, at) + c.text + mirrors[r]!.slice(at);
        break;
      }
      case 'del': {
        const r = c.r % n;
        const len = docs[r]!.length;
        if (len === 0) break;
        const at = c.at % len;
        const k = Math.min(c.len, len - at);
        broadcast(r, docs[r]!.encodeDelta(docs[r]!.delete(at, k)));
        mirrors[r] = mirrors[r]!.slice(0, at) + mirrors[r]!.slice(at + k);
        break;
      }
      case 'deliver': {
        const r = c.r % n;
        const box = inbox[r]!;
        if (box.length === 0) break;
        const i = c.pick % box.length;
        const bytes = box[i]!;
        if (!c.keep) box.splice(i, 1);
        mirrors[r] = applyToMirror(mirrors[r]!, docs[r]!.apply(docs[r]!.decodeDelta(bytes)));
        break;
      }
      case 'drop': {
        const box = inbox[c.r % n]!;
        if (box.length > 0) box.splice(c.pick % box.length, 1);
        break;
      }
      case 'sync': {
        const a = c.a % n;
        const b = c.b % n;
        if (a === b) break;
        const d = docs[b]!.since(docs[a]!.context);
        if (d !== undefined) mirrors[a] = applyToMirror(mirrors[a]!, docs[a]!.apply(docs[a]!.decodeDelta(docs[b]!.encodeDelta(d))));
        break;
      }
      case 'gc':
        docs[c.r % n]!.collectGarbage(stableOf(docs));
        break;
    }
    for (let i = 0; i < n; i++) expect(docs[i]!.toString()).toBe(mirrors[i]);
  }
  syncAll(docs);
  const text = docs[0]!.toString();
  for (const d of docs) {
    expect(d.toString()).toBe(text);
    expect(d.sequence.pending.length).toBe(0);
    expect(d.context.equals(docs[0]!.context)).toBe(true);
  }
  // GC everywhere keeps them equal, and a replica loaded from a state reads the same.
  const stable = stableOf(docs);
  for (const d of docs) d.collectGarbage(stable);
  for (const d of docs) expect(d.toString()).toBe(text);
  const loaded = new TextDocument(replicaId(99));
  loaded.loadState(docs[1]!.encodeState());
  expect(loaded.toString()).toBe(text);
  expect(loaded.context.equals(docs[1]!.context)).toBe(true);
}

describe('text CRDT convergence', () => {
  it('3-5 replicas, random edits and random delivery converge, each matching its naive mirror', () => {
    fc.assert(
      fc.property(fc.integer({ min: 3, max: 5 }), fc.array(cmd, { minLength: 1, maxLength: 80 }), (n, cmds) => run(n, cmds)),
      { seed: SEED, numRuns: 150 },
    );
  });

  it('a delete forwarded transitively (A to B to C via since) still applies', () => {
    const [a, b, c] = [1, 2, 3].map((i) => new TextDocument(replicaId(i)));
    a!.insert(0, 'hello world');
    b!.mergeFrom(a!);
    c!.mergeFrom(b!);
    a!.delete(0, 6);
    b!.mergeFrom(a!);
    expect(b!.toString()).toBe('world');
    c!.mergeFrom(b!);
    expect(c!.toString()).toBe('world');
    // A fourth replica that never saw the insert gets a tombstone plus the delete.
    const d = new TextDocument(replicaId(4));
    d.mergeFrom(c!);
    expect(d.toString()).toBe('world');
    expect(d.context.equals(a!.context)).toBe(true);
  });

  it('after GC folds stable deletes, a late joiner still converges', () => {
    const [a, b] = [1, 2].map((i) => new TextDocument(replicaId(i)));
    a!.insert(0, 'abcdef');
    a!.delete(1, 2);
    b!.mergeFrom(a!);
    b!.insert(3, 'XY');
    a!.mergeFrom(b!);
    const stable = stableOf([a!, b!]);
    a!.collectGarbage(stable);
    expect(a!.sequence.log.recordCount).toBe(0);
    const late = new TextDocument(replicaId(3));
    late.mergeFrom(a!);
    expect(late.toString()).toBe(a!.toString());
    expect(late.context.equals(a!.context)).toBe(true);
  });
});
