// A page running NeuroplexClient with IndexedDB storage against the origin named in the
// query string (`?sync=ws://…/v1/sync&ks=…`): the client e2e specs drive it through
// `window.np` and read what it renders.
import { NeuroplexClient } from '../../browser/src/client.ts';

const params = new URLSearchParams(location.search);
const client = await NeuroplexClient.connect({
  url: params.get('sync') ?? '',
  keyspace: params.get('ks') ?? 'e2e',
  storage: 'indexeddb',
  backoff: { initialMs: 100, maxMs: 1_000 },
});
const statuses: string[] = [client.status];

const el = (id: string): HTMLElement => document.getElementById(id)!;
function render(): void {
  el('status').textContent = client.status;
  el('pending').textContent = String(client.unacknowledged);
  el('views').textContent = String(client.replica.counter('views').value);
  el('tags').textContent = (client.replica.set('tags').values() as string[]).join(', ');
  el('notes').textContent = client.text('notes').toString();
}
client.on('status', (e) => {
  if (statuses[statuses.length - 1] !== e.status) statuses.push(e.status);
  render();
});
client.replica.subscribe('*', render);
render();

const api = {
  async increment(by: number): Promise<void> {
    await client.counter.increment('views', by);
  },
  async tag(t: string): Promise<void> {
    await client.set.add('tags', t);
  },
  async append(text: string): Promise<void> {
    const notes = client.text('notes');
    notes.insert(notes.length, text);
    await client.stored();
  },
  state(): { views: number; tags: string[]; notes: string } {
    return {
      views: client.replica.counter('views').value,
      tags: (client.replica.set('tags').values() as string[]).slice().sort(),
      notes: client.text('notes').toString(),
    };
  },
  /** Sets this page's presence to `{ name }`. */
  present(name: string): void {
    client.presence.set({ name });
  },
  /** The names of the others present, sorted. */
  peers(): string[] {
    return [...client.presence.peers().values()].map((p) => (p.state as { name: string }).name).sort();
  },
  status(): { status: string; unacknowledged: number; statuses: string[]; tabRole: string } {
    return { status: client.status, unacknowledged: client.unacknowledged, statuses: [...statuses], tabRole: client.tabRole };
  },
};
(window as unknown as { np: typeof api }).np = api;
document.body.dataset.ready = 'true';
