// Presence on the page: publishes this window's name, color and selection (as stable text
// positions) through client.presence, and draws everyone else's carets over the editor and
// their names in the "people here" list. Returns a function that undoes all of it.
import type { NeuroplexClient } from '../../browser/src/index.ts';
import type { TextHandle } from '../../core/src/doc/sequence-handles.ts';
import { demoPeers, myIdentity, saveName } from './presence.ts';
import { RemoteCursors } from './remote-cursors.ts';
import type { TextBinding } from './text-binding.ts';

export interface PresenceViewParts {
  readonly client: NeuroplexClient;
  readonly text: TextHandle;
  readonly binding: TextBinding;
  readonly area: HTMLTextAreaElement;
  readonly mirror: HTMLElement;
  readonly nameInput: HTMLInputElement;
  readonly people: HTMLElement;
}

/** Presence updates are coalesced: at most one per this many ms from this window. */
const PUBLISH_DELAY_MS = 30;

export function bindPresenceView(parts: PresenceViewParts): () => void {
  const { client, text, binding, area, nameInput, people } = parts;
  const cursors = new RemoteCursors(area, parts.mirror);
  const identity = myIdentity();
  nameInput.value = identity.name;
  const myName = (): string => nameInput.value.trim() || identity.name;

  const draw = (): void => {
    const peers = demoPeers(client.presence);
    const placed = peers.map((peer) => {
      const end = peer.head === null ? 0 : text.resolve(peer.head);
      const start = peer.anchor === null ? end : text.resolve(peer.anchor);
      return { peer, start, end };
    });
    cursors.render(binding.value, placed);
    const chips = [{ name: `${myName()} (you)`, color: identity.color }, ...peers];
    people.replaceChildren(
      ...chips.map((p) => {
        const chip = document.createElement('span');
        chip.className = 'chip';
        chip.style.setProperty('--c', p.color);
        chip.textContent = p.name;
        return chip;
      }),
    );
  };

  let timer: ReturnType<typeof setTimeout> | undefined;
  const publish = (): void => {
    if (timer !== undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      const len = text.length;
      // A stable position (it follows its letter), as plain JSON.
      const at = (i: number): { replica: number; counter: number } | null => {
        if (len === 0) return null;
        const p = text.cursor(Math.min(i, len));
        return { replica: p.replica, counter: p.counter };
      };
      client.presence.set({
        name: myName(),
        color: identity.color,
        anchor: at(area.selectionStart),
        head: at(area.selectionEnd),
        active: document.activeElement === area,
      });
    }, PUBLISH_DELAY_MS);
  };
  const onSelection = (): void => {
    if (document.activeElement === area) publish();
  };
  const onName = (): void => {
    const name = nameInput.value.trim();
    if (name !== '') saveName(name);
    publish();
    draw();
  };
  const listeners: [EventTarget, string, () => void][] = [
    [document, 'selectionchange', onSelection],
    [area, 'focus', publish],
    [area, 'blur', publish],
    [nameInput, 'change', onName],
  ];
  for (const [target, type, f] of listeners) target.addEventListener(type, f);
  const offText = binding.onChange(() => {
    draw();
    publish();
  });
  const offPresence = client.on('presence', draw);
  const resize = new ResizeObserver(draw);
  resize.observe(area);
  draw();
  publish();

  return () => {
    resize.disconnect();
    offPresence();
    offText();
    for (const [target, type, f] of listeners) target.removeEventListener(type, f);
    if (timer !== undefined) clearTimeout(timer);
    client.presence.set(null);
    cursors.dispose();
  };
}
