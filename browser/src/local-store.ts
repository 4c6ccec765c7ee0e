// The client's persistence, in one ordered chain of writes to its StorageAdapter: a local
// change is stored before it is handed to the sync session (so nothing unstored is ever
// sent, and a restart cannot reuse a dot the origin has seen), the replica snapshot and
// cursor are saved (coalesced) after deliveries, and pending changes are dropped only
// after a snapshot that includes them is stored.
import { type ReplicaId, replicaIdFromBytes } from '../../core/src/clock/replica-id.ts';
import { Replica } from '../../core/src/doc/replica.ts';
import { ClientSyncState, type PendingDelta } from '../../core/src/sync/client-state.ts';
import type { StorageAdapter } from './storage/storage-adapter.ts';

export class LocalStore {
  readonly adapter: StorageAdapter;
  readonly keyspace: string;
  private chain: Promise<void> = Promise.resolve();
  /** The first write that failed; later writes are not attempted. */
  failure: unknown = undefined;

  private constructor(adapter: StorageAdapter, keyspace: string) {
    this.adapter = adapter;
    this.keyspace = keyspace;
  }

  /**
   * Loads (or creates) the keyspace: its replica, with pending changes re-joined, and sync
   * state. `ownId: false` (a tab that does not own the keyspace) writes under a fresh replica
   * id, never the stored one, which belongs to the owner's writes.
   */
  static async open(adapter: StorageAdapter, keyspace: string, randomBytes: (n: number) => Uint8Array, now: () => number, ownId = true): Promise<{ store: LocalStore; replica: Replica; state: ClientSyncState }> {
    const stored = await adapter.load(keyspace);
    let id = ownId ? (stored.replicaId as ReplicaId | undefined) : replicaIdFromBytes(randomBytes(7));
    if (id === undefined) {
      id = replicaIdFromBytes(randomBytes(7));
      await adapter.saveReplicaId(keyspace, id);
    }
    const options = { replicaId: id, keyspace, now };
    const replica = stored.replica === undefined ? new Replica(options) : Replica.decode(stored.replica, options);
    // The snapshot may predate some pending changes; joining them again is harmless.
    for (const p of stored.pending) replica.applyDelta(p.bytes);
    const state = new ClientSyncState({ logId: stored.cursor.logId, position: stored.cursor.position, pending: stored.pending });
    return { store: new LocalStore(adapter, keyspace), replica, state };
  }

  /** Runs `write` after every earlier write; resolves when it is done. */
  enqueue(write: () => Promise<void>): Promise<void> {
    const next = this.chain.then(async () => {
      if (this.failure !== undefined) throw this.failure;
      try {
        await write();
      } catch (e) {
        this.failure = e;
        throw e;
      }
    });
    // The chain itself never rejects, so one failed write does not hide later errors.
    this.chain = next.catch(() => {});
    return next;
  }

  appendPending(change: PendingDelta): Promise<void> {
    return this.enqueue(() => this.adapter.appendPending(this.keyspace, change));
  }

  /** Saves the state as it is now (encoded at once, written in order). */
  saveReplica(replica: Replica, state: ClientSyncState): Promise<void> {
    const bytes = replica.encode();
    const cursor = { logId: state.logId, position: state.position };
    return this.enqueue(() => this.adapter.saveReplica(this.keyspace, bytes, cursor));
  }

  dropPendingThrough(lsn: number): Promise<void> {
    return this.enqueue(() => this.adapter.dropPendingThrough(this.keyspace, lsn));
  }

  /** Resolves when every write enqueued so far is done. */
  idle(): Promise<void> {
    return this.chain;
  }
}
