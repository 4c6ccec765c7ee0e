// Presence as the demo uses it: who is here, their name, color and caret, published
// through client.presence (ephemeral: never stored) and read back as typed peers.
import type { PresenceApi } from '../../browser/src/index.ts';
import type { RelativePosition } from '../../core/src/text/delta.ts';

/** What each window publishes. Carets are stable text positions (they follow their letter). */
export interface DemoPresence {
  readonly name: string;
  readonly color: string;
  readonly anchor: RelativePosition | null;
  readonly head: RelativePosition | null;
  /** Whether the editor has focus (an idle caret is drawn dimmer). */
  readonly active: boolean;
}

export interface Peer extends DemoPresence {
  readonly peerId: string;
}

function isPosition(v: unknown): v is RelativePosition {
  return typeof v === 'object' && v !== null && typeof (v as RelativePosition).replica === 'number' && typeof (v as RelativePosition).counter === 'number';
}

/** The peers whose state looks like a DemoPresence (anything else is ignored). */
export function demoPeers(api: PresenceApi): Peer[] {
  const out: Peer[] = [];
  for (const [peerId, p] of api.peers()) {
    const s = p.state as Record<string, unknown> | null;
    if (s === null || typeof s !== 'object' || typeof s.name !== 'string' || typeof s.color !== 'string') continue;
    out.push({
      peerId,
      name: s.name.slice(0, 24),
      color: /^#[0-9a-f]{6}$/i.test(s.color) ? s.color : '#64748b',
      anchor: isPosition(s.anchor) ? s.anchor : null,
      head: isPosition(s.head) ? s.head : null,
      active: s.active === true,
    });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

const COLORS = ['#e11d48', '#2563eb', '#059669', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#65a30d'];
const ANIMALS = ['Otter', 'Heron', 'Lynx', 'Falcon', 'Badger', 'Ibis', 'Marten', 'Gecko', 'Puffin', 'Tapir'];
const NAME_KEY = 'neuroplex-demo:name';
const COLOR_KEY = 'neuroplex-demo:color';

/** This window's name and color: remembered, else picked at random once. */
export function myIdentity(): { name: string; color: string } {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
  let name = localStorage.getItem(NAME_KEY);
  if (name === null || name.trim() === '') {
    name = `${pick(ANIMALS)} ${Math.floor(Math.random() * 90 + 10)}`;
    localStorage.setItem(NAME_KEY, name);
  }
  let color = localStorage.getItem(COLOR_KEY);
  if (color === null) {
    color = pick(COLORS);
    localStorage.setItem(COLOR_KEY, color);
  }
  return { name, color };
}

export function saveName(name: string): void {
  localStorage.setItem(NAME_KEY, name);
}
