// What a session asks of its shell, besides sending messages. Shells drain these in
// order. Rule for every effect with a `seq`: persist it, then call `storedUpTo(seq)` (a
// server also calls `committedUpTo(seq, position)` once the origin log has it).
import type { ReplicaId } from '../clock/replica-id.ts';
import type { Delta } from '../crdt/delta.ts';
import type { MapStore } from '../crdt/map-store.ts';
import type { SyncProtocolError } from './errors.ts';
import type { TransferKind } from './messages.ts';

export const SyncStatus = {
  Connecting: 'connecting',
  Syncing: 'syncing',
  Synced: 'synced',
  Closed: 'closed',
} as const;
export type SyncStatus = (typeof SyncStatus)[keyof typeof SyncStatus];

export const DeliverySource = {
  /** A log entry (client) . */
  Log: 'log',
  /** A completed snapshot transfer (client): the state as of `position`. */
  Snapshot: 'snapshot',
  /** A completed context-exchange delta (client). */
  Context: 'context',
  /** A client's change (server): commit it, then acknowledge. */
  Peer: 'peer',
} as const;
export type DeliverySource = (typeof DeliverySource)[keyof typeof DeliverySource];

export type SyncEffect =
  | { readonly kind: 'status'; readonly status: SyncStatus }
  /**
   * A validated delta to apply and persist. Client: apply it and store it with the cursor
   * `position`. Server: commit it (origin: through the log), then acknowledge `seq`.
   */
  | {
      readonly kind: 'deliver';
      readonly source: DeliverySource;
      readonly seq: number;
      readonly position: number;
      readonly delta: Delta<MapStore>;
      readonly bytes: Uint8Array;
      readonly from: ReplicaId;
    }
  /** Client: persist this part of a bulk transfer (it lets a later session resume there). */
  | {
      readonly kind: 'chunk';
      readonly seq: number;
      readonly transfer: TransferKind;
      readonly position: number;
      readonly offset: number;
      readonly totalBytes: number;
      readonly checksum: number;
      readonly bytes: Uint8Array;
    }
  /** Client: persist the cursor (every delivery before it is already handed out). */
  | { readonly kind: 'cursor'; readonly logId: string; readonly position: number }
  /** Client: local changes up to `lsn` reached `level`; at committed, drop them from storage. */
  | { readonly kind: 'acknowledged'; readonly level: 'stored' | 'committed'; readonly lsn: number }
  /**
   * A peer's presence arrived (state undefined: it left): relay or show it, never store it.
   * `first` (server): the client's first presence on this session; send it who is present.
   */
  | { readonly kind: 'presence'; readonly peer: ReplicaId; readonly state: Uint8Array | undefined; readonly first: boolean }
  /** The session ended; `error` is undefined after a clean close. */
  | { readonly kind: 'closed'; readonly error: SyncProtocolError | undefined };

export type SyncEffectKind = SyncEffect['kind'];
