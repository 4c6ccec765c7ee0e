// Content kinds: what one element of a sequence is. Text stores a run as a string (one
// element per UTF-16 code unit); a list stores a run as an array of JSON values. The
// sequence machinery is the same; only slicing, joining and the wire form differ.
import type { JsonValue } from '../codec/json-value.ts';
import { readJson, writeJson } from '../codec/json-value.ts';
import type { Reader } from '../codec/reader.ts';
import type { Writer } from '../codec/writer.ts';
import { ErrorCode } from '../errors.ts';

export const ContentTag = { Text: 0, List: 1 } as const;
export type ContentTag = (typeof ContentTag)[keyof typeof ContentTag];

/** Largest run accepted from the wire, in elements (and in bytes for a text run). */
export const MAX_RUN_ELEMENTS = 1 << 24;

export interface ContentKind<C> {
  readonly tag: ContentTag;
  length(c: C): number;
  slice(c: C, start: number, end: number): C;
  /** Joins b onto a; may reuse a, which the caller owns. */
  append(a: C, b: C): C;
  /** A copy the sequence may own (and later append to in place). */
  own(c: C): C;
  write(w: Writer, c: C): void;
  read(r: Reader, length: number): C;
}

export const textKind: ContentKind<string> = {
  tag: ContentTag.Text,
  length: (c) => c.length,
  slice: (c, s, e) => c.slice(s, e),
  append: (a, b) => a + b,
  own: (c) => c,
  write: (w, c) => w.string(c),
  read(r, length) {
    const s = r.string(MAX_RUN_ELEMENTS);
    if (s.length !== length) r.fail(ErrorCode.DecodeInvalid, `text run of ${s.length} units, expected ${length}`);
    return s;
  },
};

export const listKind: ContentKind<JsonValue[]> = {
  tag: ContentTag.List,
  length: (c) => c.length,
  slice: (c, s, e) => c.slice(s, e),
  append(a, b) {
    for (let i = 0; i < b.length; i++) a.push(b[i]!);
    return a;
  },
  own: (c) => c.slice(),
  write(w, c) {
    for (let i = 0; i < c.length; i++) writeJson(w, c[i]!);
  },
  read(r, length) {
    if (length > r.remaining) r.fail(ErrorCode.DecodeTooLarge, `list run of ${length} exceeds the input`);
    const out: JsonValue[] = new Array(length);
    for (let i = 0; i < length; i++) out[i] = readJson(r, MAX_RUN_ELEMENTS);
    return out;
  },
};
