// Shared pieces of the text CRDT property tests: a mirror string kept up to date by
// patches (the naive oracle) and pairwise sync.
import type { CausalContext } from '../../core/src/clock/causal-context.ts';
import type { Patch } from '../../core/src/text/delta.ts';
import type { TextDocument } from '../../core/src/text/standalone-text.ts';

export const SEED = Number(process.env.TEXT_SEED ?? 20261125);

export function applyToMirror(mirror: string, patches: Patch<string>[]): string {
  for (const p of patches) {
    if (p.kind === 'insert') mirror = mirror.slice(0, p.index) + p.content + mirror.slice(p.index);
    else mirror = mirror.slice(0, p.index) + mirror.slice(p.index + p.length);
  }
  return mirror;
}

/** Pulls everything from every doc into every doc (bounded rounds). */
export function syncAll(docs: TextDocument[]): void {
  for (let round = 0; round < 3; round++) for (const a of docs) for (const b of docs) if (a !== b) a.mergeFrom(b);
}

/** Dots every doc has. */
export function stableOf(docs: TextDocument[]): CausalContext {
  let stable = docs[0]!.context.clone();
  for (const d of docs) stable = stable.intersect(d.context);
  return stable;
}
