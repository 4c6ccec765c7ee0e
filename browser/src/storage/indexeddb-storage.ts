// A StorageAdapter over IndexedDB (through `idb`), for browsers: the replica and the
// unacknowledged changes survive a reload and a browser restart. Every method resolves
// once its transaction completes, so a change is durable before it counts as stored.
//
//   database `neuroplex` (or a name given), version 1
//     store `keyspaces`: key = keyspace → { replicaId?, replica?, cursor }
//     store `pending`:   key = [keyspace, lsn] → bytes   (lsn order = key order)
import { type IDBPDatabase, openDB } from 'idb';
import { InvalidArgumentError } from '../../../core/src/errors.ts';
import type { PendingDelta } from '../../../core/src/sync/client-state.ts';
import { ClientClosedError } from '../errors.ts';
import type { StorageAdapter, StoredCursor, StoredKeyspace } from './storage-adapter.ts';

const KEYSPACES = 'keyspaces';
const PENDING = 'pending';

interface KeyspaceRecord {
  replicaId?: number;
  replica?: Uint8Array;
  cursor: StoredCursor;
}

export class IndexedDbStorage implements StorageAdapter {
  private db: IDBPDatabase | null;

  private constructor(db: IDBPDatabase) {
    this.db = db;
  }

  /** Opens (creating if needed) the database named `name`. */
  static async open(name = 'neuroplex'): Promise<IndexedDbStorage> {
    const db = await openDB(name, 1, {
      upgrade(d) {
        d.createObjectStore(KEYSPACES);
        d.createObjectStore(PENDING);
      },
    });
    return new IndexedDbStorage(db);
  }

  private open(): IDBPDatabase {
    if (this.db === null) throw new ClientClosedError('storage is closed');
    return this.db;
  }

  async load(keyspace: string): Promise<StoredKeyspace> {
    const tx = this.open().transaction([KEYSPACES, PENDING], 'readonly');
    const range = IDBKeyRange.bound([keyspace, 0], [keyspace, Number.MAX_SAFE_INTEGER]);
    const [record, keys, values] = await Promise.all([
      tx.objectStore(KEYSPACES).get(keyspace) as Promise<KeyspaceRecord | undefined>,
      tx.objectStore(PENDING).getAllKeys(range),
      tx.objectStore(PENDING).getAll(range) as Promise<Uint8Array[]>,
      tx.done,
    ]);
    return {
      replicaId: record?.replicaId,
      replica: record?.replica?.slice(),
      cursor: record === undefined ? { logId: '', position: 0 } : { ...record.cursor },
      pending: keys.map((k, i) => ({ lsn: (k as [string, number])[1], bytes: new Uint8Array(values[i]!) })),
    };
  }

  /** Read-modify-write of one keyspace record in one transaction. */
  private async update(keyspace: string, change: (r: KeyspaceRecord) => void): Promise<void> {
    const tx = this.open().transaction(KEYSPACES, 'readwrite');
    const record = ((await tx.store.get(keyspace)) as KeyspaceRecord | undefined) ?? { cursor: { logId: '', position: 0 } };
    change(record);
    await Promise.all([tx.store.put(record, keyspace), tx.done]);
  }

  async saveReplicaId(keyspace: string, replicaId: number): Promise<void> {
    await this.update(keyspace, (r) => {
      r.replicaId = replicaId;
    });
  }

  async saveReplica(keyspace: string, replica: Uint8Array, cursor: StoredCursor): Promise<void> {
    const copy = replica.slice();
    await this.update(keyspace, (r) => {
      r.replica = copy;
      r.cursor = { logId: cursor.logId, position: cursor.position };
    });
  }

  async appendPending(keyspace: string, change: PendingDelta): Promise<void> {
    const tx = this.open().transaction(PENDING, 'readwrite');
    const range = IDBKeyRange.bound([keyspace, 0], [keyspace, Number.MAX_SAFE_INTEGER]);
    const last = await tx.store.openKeyCursor(range, 'prev');
    if (last !== null && (last.key as [string, number])[1] >= change.lsn) {
      tx.abort();
      await tx.done.catch(() => undefined);
      throw new InvalidArgumentError(`pending lsn ${change.lsn} is not after ${(last.key as [string, number])[1]}`);
    }
    await Promise.all([tx.store.put(change.bytes.slice(), [keyspace, change.lsn]), tx.done]);
  }

  async dropPendingThrough(keyspace: string, lsn: number): Promise<void> {
    const tx = this.open().transaction(PENDING, 'readwrite');
    await Promise.all([tx.store.delete(IDBKeyRange.bound([keyspace, 0], [keyspace, lsn])), tx.done]);
  }

  async close(): Promise<void> {
    this.db?.close();
    this.db = null;
  }
}
