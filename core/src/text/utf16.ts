// Text indexes count UTF-16 code units, as JavaScript strings and DOM selections do. Every
// wire format writes text as UTF-8, which cannot hold half of a surrogate pair (the encoder
// would replace it with U+FFFD, and the replica that wrote it would disagree with every
// replica that loads it). So an edit may not split a pair, and inserted text must be
// well-formed; both are refused with InvalidArgumentError before anything changes.
import { InvalidArgumentError } from '../errors.ts';
import { findVisible } from './position-tree.ts';
import type { Sequence } from './sequence.ts';

function isHigh(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

function isLow(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}

/** The code unit at visible `index` (which must be inside the text). */
function unitAt(seq: Sequence<string>, index: number): number {
  const chunk = findVisible(seq, index)!;
  return chunk.content!.charCodeAt(seq.offset);
}

/** Throws when a caret at `index` would fall between the two halves of one character. */
function checkBoundary(seq: Sequence<string>, index: number): void {
  if (index <= 0 || index >= seq.length) return;
  if (isHigh(unitAt(seq, index - 1)) && isLow(unitAt(seq, index))) {
    throw new InvalidArgumentError(`text index ${index} falls inside a surrogate pair (one character of two UTF-16 units); use ${index - 1} or ${index + 1}`);
  }
}

/** Index of the first lone surrogate in `text`, or -1 when it is well-formed UTF-16. */
export function loneSurrogateAt(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const u = text.charCodeAt(i);
    if (isHigh(u)) {
      if (i + 1 < text.length && isLow(text.charCodeAt(i + 1))) i++;
      else return i;
    } else if (isLow(u)) return i;
  }
  return -1;
}

/** Checks an insert of `text` at `index` (the index itself is checked by the caller). */
export function checkTextInsert(seq: Sequence<string> | undefined, index: number, text: string): void {
  const lone = loneSurrogateAt(text);
  if (lone >= 0) throw new InvalidArgumentError(`inserted text has a lone surrogate at ${lone} (not a whole character)`);
  if (seq !== undefined) checkBoundary(seq, index);
}

/** Checks a delete of `length` units at `index` (the range itself is checked by the caller). */
export function checkTextDelete(seq: Sequence<string> | undefined, index: number, length: number): void {
  if (seq === undefined || length === 0) return;
  checkBoundary(seq, index);
  checkBoundary(seq, index + length);
}
