// Binds a <textarea> to a text CRDT. Local input becomes index edits (a delete and an
// insert at the caret); remote changes arrive as index patches and are applied to the
// textarea in place, moving the local selection with them, so the caret stays on the
// letter it was on while others type.
import type { Replica } from '../../core/src/doc/replica.ts';
import type { TextHandle } from '../../core/src/doc/sequence-handles.ts';
import { type Patch, PatchKind } from '../../core/src/text/delta.ts';

export interface Edit {
  readonly index: number;
  readonly removed: number;
  readonly inserted: string;
}

/**
 * The edit that turns `prev` into `next`. `caret` (the selection end after the edit)
 * decides between equivalent answers: typing "a" after "a" inserts after the caret's
 * letter, which matters to a CRDT (it places the letter by its neighbours).
 */
export function diffAtCaret(prev: string, next: string, caret: number): Edit {
  const grown = next.length - prev.length;
  if (grown > 0 && caret >= grown && caret <= next.length) {
    const at = caret - grown;
    if (!splitsPair(next, at) && prev.slice(0, at) === next.slice(0, at) && prev.slice(at) === next.slice(caret)) return { index: at, removed: 0, inserted: next.slice(at, caret) };
  }
  let start = 0;
  const max = Math.min(prev.length, next.length);
  while (start < max && prev.charCodeAt(start) === next.charCodeAt(start)) start++;
  let endPrev = prev.length;
  let endNext = next.length;
  while (endPrev > start && endNext > start && prev.charCodeAt(endPrev - 1) === next.charCodeAt(endNext - 1)) {
    endPrev--;
    endNext--;
  }
  // Edits never split a character made of a surrogate pair (the text CRDT refuses them:
  // core/src/text/utf16.ts): replacing 😀 by 😁 shares the high half, so widen to whole characters.
  if (splitsPair(prev, start) || splitsPair(next, start)) start--;
  if (splitsPair(prev, endPrev) || splitsPair(next, endNext)) {
    endPrev++;
    endNext++;
  }
  return { index: start, removed: endPrev - start, inserted: next.slice(start, endNext) };
}

/** Whether index `i` of `s` falls between the two halves of one character. */
function splitsPair(s: string, i: number): boolean {
  if (i <= 0 || i >= s.length) return false;
  const before = s.charCodeAt(i - 1);
  const after = s.charCodeAt(i);
  return before >= 0xd800 && before <= 0xdbff && after >= 0xdc00 && after <= 0xdfff;
}

/** Moves an offset across one patch: text inserted at the offset itself goes after it. */
export function shiftOffset(offset: number, patch: Patch<unknown>): number {
  if (patch.kind === PatchKind.Insert) return patch.index < offset ? offset + (patch.content as string).length : offset;
  if (offset <= patch.index) return offset;
  return Math.max(patch.index, offset - patch.length);
}

export function applyPatches(value: string, patches: readonly Patch<unknown>[]): string {
  let v = value;
  for (const p of patches) {
    v = p.kind === PatchKind.Insert ? v.slice(0, p.index) + (p.content as string) + v.slice(p.index) : v.slice(0, p.index) + v.slice(p.index + p.length);
  }
  return v;
}

export class TextBinding {
  /** What the textarea showed after the last sync with the CRDT. */
  private shown = '';
  private composing = false;
  private readonly unsubscribe: () => void;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly area: HTMLTextAreaElement,
    private readonly text: TextHandle,
    replica: Replica,
    key: string,
  ) {
    this.shown = text.toString();
    area.value = this.shown;
    area.addEventListener('input', this.onInput);
    area.addEventListener('compositionstart', this.onCompositionStart);
    area.addEventListener('compositionend', this.onCompositionEnd);
    this.unsubscribe = replica.subscribe(key, (e) => {
      if (e.origin === 'local') return;
      this.remote(e.patches);
    });
  }

  /** Called after every change of the text shown (remote or local). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get value(): string {
    return this.shown;
  }

  dispose(): void {
    this.unsubscribe();
    this.area.removeEventListener('input', this.onInput);
    this.area.removeEventListener('compositionstart', this.onCompositionStart);
    this.area.removeEventListener('compositionend', this.onCompositionEnd);
  }

  private readonly onCompositionStart = (): void => {
    this.composing = true;
  };

  private readonly onCompositionEnd = (): void => {
    this.composing = false;
    this.onInput();
  };

  private readonly onInput = (): void => {
    // An IME composes in place; the letters count once it is done.
    if (this.composing) return;
    const next = this.area.value;
    if (next === this.shown) return;
    const edit = diffAtCaret(this.shown, next, this.area.selectionEnd);
    if (edit.removed > 0) this.text.delete(edit.index, edit.removed);
    if (edit.inserted.length > 0) this.text.insert(edit.index, edit.inserted);
    this.shown = next;
    this.emit();
  };

  private remote(patches: readonly Patch<unknown>[] | undefined): void {
    const area = this.area;
    let start = area.selectionStart;
    let end = area.selectionEnd;
    const truth = this.text.toString();
    let next = patches === undefined ? truth : applyPatches(this.shown, patches);
    if (next === truth && patches !== undefined) {
      for (const p of patches) {
        start = shiftOffset(start, p);
        end = shiftOffset(end, p);
      }
    } else {
      // No patches (an undo) or a mismatch: show the truth and keep the caret by a diff.
      const edit = diffAtCaret(this.shown, truth, -1);
      const p: Patch<unknown>[] = [];
      if (edit.removed > 0) p.push({ kind: PatchKind.Delete, index: edit.index, length: edit.removed });
      if (edit.inserted.length > 0) p.push({ kind: PatchKind.Insert, index: edit.index, content: edit.inserted });
      for (const x of p) {
        start = shiftOffset(start, x);
        end = shiftOffset(end, x);
      }
      next = truth;
    }
    // Under an IME the composition is dropped here (rare: a remote edit mid-composition);
    // correctness first: the textarea must always show the CRDT's text.
    const scroll = area.scrollTop;
    const direction = area.selectionDirection;
    this.shown = next;
    if (area.value !== next) {
      area.value = next;
      area.setSelectionRange(start, end, direction);
      area.scrollTop = scroll;
    }
    this.emit();
  }

  private emit(): void {
    for (const l of this.listeners) l();
  }
}
