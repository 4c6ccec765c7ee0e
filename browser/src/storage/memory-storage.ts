// A StorageAdapter in memory: for Node, tests, and pages that need no persistence. Values
// are copied in and out, so callers cannot change what is "stored" by mutating buffers.
import type { PendingDelta } from '../../../core/src/sync/client-state.ts';
import { ClientClosedError } from '../errors.ts';
import type { StorageAdapter, StoredCursor, StoredKeyspace } from './storage-adapter.ts';

interface Slot {
  replicaId: number | undefined;
  replica: Uint8Array | undefined;
  cursor: StoredCursor;
  pending: PendingDelta[];
}

export class MemoryStorage implements StorageAdapter {
  private readonly slots = new Map<string, Slot>();
  private closed = false;

  private slot(keyspace: string): Slot {
    if (this.closed) throw new ClientClosedError('storage is closed');
    let s = this.slots.get(keyspace);
    if (s === undefined) {
      s = { replicaId: undefined, replica: undefined, cursor: { logId: '', position: 0 }, pending: [] };
      this.slots.set(keyspace, s);
    }
    return s;
  }

  async load(keyspace: string): Promise<StoredKeyspace> {
    const s = this.slot(keyspace);
    return {
      replicaId: s.replicaId,
      replica: s.replica?.slice(),
      cursor: { ...s.cursor },
      pending: s.pending.map((p) => ({ lsn: p.lsn, bytes: p.bytes.slice() })),
    };
  }

  async saveReplicaId(keyspace: string, replicaId: number): Promise<void> {
    this.slot(keyspace).replicaId = replicaId;
  }

  async saveReplica(keyspace: string, replica: Uint8Array, cursor: StoredCursor): Promise<void> {
    const s = this.slot(keyspace);
    s.replica = replica.slice();
    s.cursor = { logId: cursor.logId, position: cursor.position };
  }

  async appendPending(keyspace: string, change: PendingDelta): Promise<void> {
    const s = this.slot(keyspace);
    const last = s.pending[s.pending.length - 1];
    if (last !== undefined && change.lsn <= last.lsn) throw new RangeError(`pending lsn ${change.lsn} is not after ${last.lsn}`);
    s.pending.push({ lsn: change.lsn, bytes: change.bytes.slice() });
  }

  async dropPendingThrough(keyspace: string, lsn: number): Promise<void> {
    const s = this.slot(keyspace);
    s.pending = s.pending.filter((p) => p.lsn > lsn);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
