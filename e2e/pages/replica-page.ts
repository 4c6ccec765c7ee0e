// A page holding one Replica, persisted after every change through the client's IndexedDB
// StorageAdapter (browser/src/storage/indexeddb-storage.ts): the end-to-end tests drive it
// through `window.neuroplex`.
import { IndexedDbStorage } from '../../browser/src/storage/indexeddb-storage.ts';
import type { ReplicaId } from '../../core/src/clock/replica-id.ts';
import { replicaIdFromBytes } from '../../core/src/clock/replica-id.ts';
import { Replica } from '../../core/src/doc/replica.ts';

const KEYSPACE = 'e2e';
const storage = await IndexedDbStorage.open('neuroplex-e2e');
const stored = await storage.load(KEYSPACE);
const id = (stored.replicaId ?? replicaIdFromBytes(crypto.getRandomValues(new Uint8Array(7)))) as ReplicaId;
if (stored.replicaId === undefined) await storage.saveReplicaId(KEYSPACE, id);
const saved = stored.replica;
const replica = saved === undefined ? new Replica({ replicaId: id, now: Date.now }) : Replica.decode(saved, { replicaId: id, now: Date.now });

/** Durable before acknowledged: a change counts once its IndexedDB transaction completed. */
async function persist(): Promise<void> {
  await storage.saveReplica(KEYSPACE, replica.encode(), { logId: '', position: 0 });
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
