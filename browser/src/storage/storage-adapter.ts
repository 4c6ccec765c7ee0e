// Where a client keeps its replica across restarts. One adapter may hold many keyspaces.
// What must survive: the replica id (its dots must never be reused), the replica state
// with the sync cursor it corresponds to (written together), and the local changes not yet
// acknowledged as committed by the origin. Every method resolves once the write is durable
// for that adapter (memory: at once; IndexedDB: transaction complete).
import type { PendingDelta } from '../../../core/src/sync/client-state.ts';

export interface StoredCursor {
  /** The origin log the position refers to ('' before the first sync). */
  readonly logId: string;
  readonly position: number;
}

export interface StoredKeyspace {
  /** Undefined for a keyspace never opened with this adapter. */
  readonly replicaId: number | undefined;
  /** The replica state (Replica.encode()), undefined before the first save. */
  readonly replica: Uint8Array | undefined;
  readonly cursor: StoredCursor;
  /** Unacknowledged local changes in lsn order. */
  readonly pending: readonly PendingDelta[];
}

export interface StorageAdapter {
  load(keyspace: string): Promise<StoredKeyspace>;
  saveReplicaId(keyspace: string, replicaId: number): Promise<void>;
  /** The replica state and the cursor it is current to, in one write. */
  saveReplica(keyspace: string, replica: Uint8Array, cursor: StoredCursor): Promise<void>;
  appendPending(keyspace: string, change: PendingDelta): Promise<void>;
  /** Drops every pending change with lsn <= `lsn`. */
  dropPendingThrough(keyspace: string, lsn: number): Promise<void>;
  close(): Promise<void>;
}
