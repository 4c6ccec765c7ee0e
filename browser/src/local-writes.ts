// The client's local write pipeline: every local op's delta is stored (appended to the
// pending changes) before it is handed to the sync state under the same lsn, so nothing
// unstored is ever sent and a restart cannot reuse an lsn the origin has seen.
import { assert } from '../../core/src/errors.ts';
import type { ClientSyncState } from '../../core/src/sync/client-state.ts';
import type { LocalStore } from './local-store.ts';
import type { MetricsRecorder } from './metrics.ts';
import type { StoredKeyspace } from './storage/storage-adapter.ts';

export class LocalWrites {
  /** Local changes being stored, not yet handed to the sync state. */
  storing = 0;
  /** Resolves once the latest local change is stored (or, in a follower tab, sent to the owner). */
  last: Promise<void> = Promise.resolve();
  private nextLsn: number;

  constructor(
    private readonly store: LocalStore,
    private readonly state: ClientSyncState,
    private readonly recorder: MetricsRecorder,
    /** A change is stored: hand it to the sync state (and the other tabs). */
    private readonly stored: (bytes: Uint8Array) => void,
    /** The backlog changed. */
    private readonly changed: () => void,
  ) {
    this.nextLsn = state.nextLsn;
  }

  /** Stores a local change, then hands it on (`stored`); resolves once it is stored. */
  append(bytes: Uint8Array): Promise<void> {
    const p = { lsn: this.nextLsn++, bytes };
    this.recorder.localChange(p.lsn);
    this.storing++;
    this.last = this.store.appendPending(p).then(() => {
      this.storing--;
      assert(this.state.nextLsn === p.lsn, `stored change ${p.lsn} is not the sync state's next ${this.state.nextLsn}`);
      this.stored(bytes);
    });
    this.changed();
    return this.last;
  }

  /**
   * Takes over what another tab stored as the owner (this tab just became it): its cursor
   * and pending changes; local changes are numbered after them.
   */
  adopt(stored: Pick<StoredKeyspace, 'cursor' | 'pending'>): void {
    const state = this.state;
    state.logId = stored.cursor.logId;
    state.position = stored.cursor.position;
    state.pending.splice(0, state.pending.length, ...stored.pending);
    state.nextLsn = stored.pending.length === 0 ? 1 : stored.pending[stored.pending.length - 1]!.lsn + 1;
    this.nextLsn = state.nextLsn;
  }
}
