// What the leader knows about one follower: how far its log matches (match), what to send
// next (next), and how to send: probing one message at a time, replicating optimistically in
// a pipeline bounded by the in-flight budget, or waiting for a snapshot to be installed.
import { Inflights } from './inflights.ts';

export const ProgressState = {
  Probe: 0,
  Replicate: 1,
  Snapshot: 2,
} as const;
export type ProgressState = (typeof ProgressState)[keyof typeof ProgressState];

export class Progress {
  /** Invariant: match < next. */
  match: number;
  next: number;
  state: ProgressState;
  /** In Snapshot state: the index of the snapshot being sent. */
  pendingSnapshot: number;
  /** Heard from within the last election timeout (check-quorum). */
  recentActive: boolean;
  /** In Probe state: an append was sent and no answer came yet; send no more until one does. */
  probeSent: boolean;
  readonly inflights: Inflights;
  isLearner: boolean;
  /** Lease: the leader's tick count of the latest heartbeat this follower acknowledged. */
  ackedTick: number;
  /** In Snapshot state: the leader's tick count when the snapshot was sent. */
  snapshotSentTick: number;

  constructor(next: number, maxInflight: number, maxInflightBytes: number, isLearner: boolean) {
    this.match = 0;
    this.next = next;
    this.state = ProgressState.Probe;
    this.pendingSnapshot = 0;
    this.recentActive = false;
    this.probeSent = false;
    this.inflights = new Inflights(maxInflight, maxInflightBytes);
    this.isLearner = isLearner;
    this.ackedTick = -Infinity;
    this.snapshotSentTick = 0;
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    if (this.state === ProgressState.Snapshot) {
      const pending = this.pendingSnapshot;
      this.resetState(ProgressState.Probe);
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState(ProgressState.Probe);
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState(ProgressState.Replicate);
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number, nowTick: number): void {
    this.resetState(ProgressState.Snapshot);
    this.pendingSnapshot = snapshotIndex;
    this.snapshotSentTick = nowTick;
  }

  /** An append ending at lastIndex with `bytes` bytes was sent. */
  sentEntries(lastIndex: number, count: number, bytes: number): void {
    if (this.state === ProgressState.Replicate) {
      if (count > 0) {
        this.next = lastIndex + 1;
        this.inflights.add(lastIndex, bytes);
      }
    } else if (this.state === ProgressState.Probe) {
      this.probeSent = true;
    }
  }

  /** An ack up to n arrived; returns false if it was stale. */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, n + 1);
    return updated;
  }

  /**
   * A rejection of the append at `rejected`; matchHint is the follower's suggestion of where
   * the logs may agree. Returns false when the rejection is stale.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === ProgressState.Replicate) {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1, 1);
    this.probeSent = false;
    return true;
  }

  /** Whether the leader should hold back appends to this follower. */
  isPaused(): boolean {
    switch (this.state) {
      case ProgressState.Probe:
        return this.probeSent;
      case ProgressState.Replicate:
        return this.inflights.full();
      default:
        return true;
    }
  }
}
