// Text indexes are UTF-16 code units; an edit may not split a character made of a surrogate
// pair, and inserted text must be well-formed (text/utf16.ts explains why).
import { describe, expect, it } from 'vitest';
import type { ReplicaId } from '../../../core/src/clock/replica-id.ts';
import { Replica } from '../../../core/src/doc/replica.ts';
import { InvalidArgumentError } from '../../../core/src/errors.ts';
import { TextDocument } from '../../../core/src/text/standalone-text.ts';

describe('surrogate pairs in text', () => {
  it('the Replica text handle refuses edits inside a pair and leaves the text unchanged', () => {
    const r = new Replica({ replicaId: 1 as ReplicaId });
    const t = r.text('doc');
    t.insert(0, 'a😀b');
    expect(() => t.insert(2, 'x')).toThrow(InvalidArgumentError);
    expect(() => t.delete(1, 1)).toThrow(/surrogate pair/);
    expect(() => t.delete(2, 2)).toThrow(/surrogate pair/);
    expect(() => t.insert(0, '\ud83d')).toThrow(/lone surrogate at 0/);
    expect(() => r.text('other').insert(0, 'ok\ude00')).toThrow(/lone surrogate at 2/);
    expect(t.toString()).toBe('a😀b');
    t.insert(1, 'x');
    t.insert(4, 'y');
    t.delete(2, 2);
    expect(t.toString()).toBe('axyb');
    expect(Replica.decode(r.encode(), { replicaId: 1 as ReplicaId }).text('doc').toString()).toBe('axyb');
  });

  it('the standalone TextDocument refuses them too', () => {
    const d = new TextDocument(1 as ReplicaId);
    d.insert(0, '😀😀');
    expect(() => d.insert(1, 'x')).toThrow(InvalidArgumentError);
    expect(() => d.delete(0, 3)).toThrow(/surrogate pair/);
    d.delete(0, 2);
    expect(d.toString()).toBe('😀');
  });
});
