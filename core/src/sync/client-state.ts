// What a client keeps across sessions (and, through its shell, across restarts): the
// resume cursor (the server's log id and the last log position it holds), its own changes
// not yet acknowledged as committed, and the part of an interrupted bulk transfer it has
// received. The shell persists each of these when the session's effects say so and
// rebuilds this object from storage before opening the next session.
import { assert } from '../errors.ts';
import type { TransferKind } from './messages.ts';

/** A local change waiting for the origin's committed acknowledgement. */
export interface PendingDelta {
  /** Local sequence number, stable across sessions (1, 2, 3, ...). */
  readonly lsn: number;
  /** The encoded delta. */
  readonly bytes: Uint8Array;
}

/** The received part of a bulk transfer (snapshot or context delta). */
export class TransferBuffer {
  readonly kind: TransferKind;
  readonly position: number;
  readonly totalBytes: number;
  readonly checksum: number;
  readonly chunks: Uint8Array[];
  /** Invariant: the sum of the chunks' lengths, at most totalBytes. */
  receivedBytes: number;

  constructor(kind: TransferKind, position: number, totalBytes: number, checksum: number) {
    this.kind = kind;
    this.position = position;
    this.totalBytes = totalBytes;
    this.checksum = checksum;
    this.chunks = [];
    this.receivedBytes = 0;
  }

  append(bytes: Uint8Array): void {
    assert(this.receivedBytes + bytes.length <= this.totalBytes, 'chunk overflows its transfer');
    this.chunks.push(bytes);
    this.receivedBytes += bytes.length;
  }

  get complete(): boolean {
    return this.receivedBytes === this.totalBytes;
  }

  /** The whole transfer in one buffer. */
  assemble(): Uint8Array {
    const out = new Uint8Array(this.totalBytes);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

/** While a session is open, only that session changes this state (it tracks what it sent). */
export class ClientSyncState {
  /** The server log the cursor refers to ('' before the first sync). */
  logId: string;
  /** Invariant: the client holds every change up to this position of log `logId`. */
  position: number;
  /** Unacknowledged local changes, in lsn order. */
  readonly pending: PendingDelta[];
  nextLsn: number;
  transfer: TransferBuffer | undefined;

  constructor(init?: { logId?: string; position?: number; pending?: readonly PendingDelta[]; transfer?: TransferBuffer }) {
    this.logId = init?.logId ?? '';
    this.position = init?.position ?? 0;
    this.pending = init?.pending === undefined ? [] : [...init.pending];
    this.nextLsn = this.pending.length === 0 ? 1 : this.pending[this.pending.length - 1]!.lsn + 1;
    this.transfer = init?.transfer;
  }

  /** Records a local change (also while offline); the shell persists the result. */
  addLocal(bytes: Uint8Array): PendingDelta {
    const p: PendingDelta = { lsn: this.nextLsn++, bytes };
    this.pending.push(p);
    return p;
  }

  /** Drops every pending change up to `lsn`; returns how many. */
  acknowledge(lsn: number): number {
    let n = 0;
    while (n < this.pending.length && this.pending[n]!.lsn <= lsn) n++;
    if (n > 0) this.pending.splice(0, n);
    return n;
  }

  get pendingBytes(): number {
    let n = 0;
    for (const p of this.pending) n += p.bytes.length;
    return n;
  }
}
