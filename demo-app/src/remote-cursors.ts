// Draws other people's carets and selections over the textarea. A mirror <div> under the
// textarea has the same box, font and wrapping and the same text (transparent); marker
// elements placed at text offsets in it land exactly where those offsets are drawn.
import type { Peer } from './presence.ts';

export interface PlacedPeer {
  readonly peer: Peer;
  /** Selection in text offsets; start === end for a caret. */
  readonly start: number;
  readonly end: number;
}

export class RemoteCursors {
  constructor(
    private readonly area: HTMLTextAreaElement,
    private readonly mirror: HTMLElement,
  ) {
    area.addEventListener('scroll', this.syncScroll);
  }

  render(text: string, peers: readonly PlacedPeer[]): void {
    // Boundaries: every start and end, in order; text between them, marks at them.
    const marks: { at: number; kind: 'start' | 'end' | 'caret'; p: PlacedPeer }[] = [];
    for (const p of peers) {
      const s = clamp(p.start, text.length);
      const e = clamp(p.end, text.length);
      if (s !== e) {
        marks.push({ at: Math.min(s, e), kind: 'start', p }, { at: Math.max(s, e), kind: 'end', p });
      }
      marks.push({ at: e, kind: 'caret', p });
    }
    marks.sort((a, b) => a.at - b.at);
    const frag = document.createDocumentFragment();
    const open = new Set<PlacedPeer>();
    let pos = 0;
    const pushText = (upTo: number): void => {
      if (upTo <= pos) return;
      const chunk = text.slice(pos, upTo);
      if (open.size === 0) frag.append(chunk);
      else {
        const span = document.createElement('span');
        span.className = 'rsel';
        const last = [...open][open.size - 1]!;
        span.style.setProperty('--c', last.peer.color);
        span.textContent = chunk;
        frag.append(span);
      }
      pos = upTo;
    };
    for (const m of marks) {
      pushText(m.at);
      if (m.kind === 'start') open.add(m.p);
      else if (m.kind === 'end') open.delete(m.p);
      else {
        const caret = document.createElement('span');
        caret.className = m.p.peer.active ? 'rcaret' : 'rcaret idle';
        caret.style.setProperty('--c', m.p.peer.color);
        caret.dataset.peer = m.p.peer.name;
        caret.dataset.at = String(m.at); // its offset in the text (tests wait for it)
        const label = document.createElement('span');
        label.className = 'rlabel';
        label.textContent = m.p.peer.name;
        caret.append(label);
        frag.append(caret);
      }
    }
    pushText(text.length);
    // A trailing newline needs a character after it to take up its line.
    frag.append('\u200b');
    this.mirror.replaceChildren(frag);
    this.syncScroll();
  }

  dispose(): void {
    this.area.removeEventListener('scroll', this.syncScroll);
    this.mirror.replaceChildren();
  }

  private readonly syncScroll = (): void => {
    this.mirror.scrollTop = this.area.scrollTop;
  };
}

function clamp(i: number, max: number): number {
  return Math.max(0, Math.min(max, i));
}
