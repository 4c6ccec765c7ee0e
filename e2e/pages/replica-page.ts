// A page holding one Replica, persisted in IndexedDB (idb) after every change: the
// end-to-end tests drive it through `window.neuroplex`.
import { openDB } from 'idb';
import type { ReplicaId } from '../../core/src/clock/replica-id.ts';
import { replicaIdFromBytes } from '../../core/src/clock/replica-id.ts';
import { Replica } from '../../core/src/doc/replica.ts';

const db = await openDB('neuroplex-e2e', 1, {
  upgrade(d) {
    d.createObjectStore('replica');
  },
});

const saved = (await db.get('replica', 'snapshot')) as Uint8Array | undefined;
const savedId = (await db.get('replica', 'id')) as number | undefined;
const id = (savedId ?? replicaIdFromBytes(crypto.getRandomValues(new Uint8Array(7)))) as ReplicaId;
const replica = saved === undefined ? new Replica({ replicaId: id, now: Date.now }) : Replica.decode(saved, { replicaId: id, now: Date.now });

/** Durable before acknowledged: a change counts once its IndexedDB transaction completed. */
async function persist(): Promise<void> {
  const tx = db.transaction('replica', 'readwrite');
  await Promise.all([tx.store.put(replica.encode(), 'snapshot'), tx.store.put(id, 'id'), tx.done]);
}

const views = document.getElementById('views')!;
const notes = document.getElementById('notes') as HTMLTextAreaElement;
const status = document.getElementById('status')!;
function render(): void {
  views.textContent = String(replica.counter('views').value);
  notes.value = replica.text('notes').toString();
}
replica.subscribe('*', render);
render();
status.textContent = saved === undefined ? 'new replica' : 'loaded from IndexedDB';

const api = {
  async increment(): Promise<number> {
    replica.counter('views').increment();
    await persist();
    return replica.counter('views').value;
  },
  async type(index: number, text: string): Promise<string> {
    replica.text('notes').insert(index, text);
    await persist();
    return replica.text('notes').toString();
  },
  state(): { views: number; notes: string; id: number } {
    return { views: replica.counter('views').value, notes: replica.text('notes').toString(), id };
  },
};
(window as unknown as { neuroplex: typeof api }).neuroplex = api;
status.dataset.ready = 'true';
