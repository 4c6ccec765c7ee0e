// Strong reads of an origin node: the reads that arrive in one turn of the Ready loop share
// one ReadIndex round (one heartbeat broadcast), and each is released once the state
// machine has applied up to the index that round returned.
//
// A round's context is this process's random tag and a counter (crypto per read costs too
// much); Raft hands it back in a ReadState.
import { randomBytes } from 'node:crypto';
import type { RawNode } from '../../../core/src/raft/raw-node.ts';
import type { ReadState } from '../../../core/src/raft/read-only.ts';
import { NodeErrorCode, NodeUnavailableError } from '../node/errors.ts';
import { withTimeout } from '../node/local-node.ts';

interface ReadWaiter {
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
  /** Set once the round is asked for. */
  batch?: ReadBatch;
}

interface ReadBatch {
  readonly tag: string;
  readonly waiters: ReadWaiter[];
  /** Waiters still waiting; the batch is forgotten when none is. */
  open: number;
}

export class ReadIndexQueue {
  private readonly raft: RawNode;
  private readonly kick: () => void;
  private readonly reads = new Map<string, ReadBatch>();
  /** Strong reads not yet in a ReadIndex round (asked for at the loop's next turn). */
  private queue: ReadWaiter[] = [];
  /** ReadIndex answers waiting for the state machine to catch up. */
  private readonly readsAt: { index: number; batch: ReadBatch }[] = [];
  private readonly tag = randomBytes(4);
  private seq = 0;
  /** Reads waiting, in any stage. */
  pending = 0;

  constructor(raft: RawNode, kick: () => void) {
    this.raft = raft;
    this.kick = kick;
  }

  /** Resolves once a read at this moment may be answered from the local state. */
  async wait(timeoutMs: number): Promise<void> {
    let waiter!: ReadWaiter;
    const ready = new Promise<void>((resolve, reject) => (waiter = { resolve, reject }));
    this.queue.push(waiter);
    this.pending++;
    this.kick();
    try {
      await withTimeout(ready, timeoutMs, 'strong read');
    } finally {
      this.pending--;
      const b = waiter.batch;
      if (b !== undefined && --b.open === 0) this.reads.delete(b.tag);
    }
  }

  /** One ReadIndex round for every strong read queued since the last one. */
  ask(): void {
    if (this.queue.length === 0) return;
    const waiters = this.queue;
    this.queue = [];
    const ctx = this.context();
    const batch: ReadBatch = { tag: ctx.toString('hex'), waiters, open: waiters.length };
    for (const w of waiters) w.batch = batch;
    this.reads.set(batch.tag, batch);
    try {
      this.raft.readIndex(new Uint8Array(ctx));
    } catch (e) {
      this.reads.delete(batch.tag);
      for (const w of waiters) w.reject(new NodeUnavailableError(NodeErrorCode.NoQuorum, `strong read refused: ${(e as Error).message}`));
    }
  }

  /** The rounds a Ready answered. */
  answered(readStates: readonly ReadState[]): void {
    for (const rs of readStates) {
      const key = Buffer.from(rs.context).toString('hex');
      const b = this.reads.get(key);
      if (b === undefined) continue;
      this.reads.delete(key);
      this.readsAt.push({ index: rs.index, batch: b });
    }
  }

  /** Releases the reads whose index the state machine has applied. */
  release(applied: number): void {
    for (let i = this.readsAt.length - 1; i >= 0; i--) {
      if (this.readsAt[i]!.index <= applied) for (const w of this.readsAt.splice(i, 1)[0]!.batch.waiters) w.resolve();
    }
  }

  rejectAll(err: unknown): void {
    for (const b of this.reads.values()) for (const w of b.waiters) w.reject(err);
    for (const r of this.readsAt) for (const w of r.batch.waiters) w.reject(err);
    for (const w of this.queue) w.reject(err);
    this.queue = [];
    this.reads.clear();
    this.readsAt.length = 0;
  }

  private context(): Buffer {
    const ctx = Buffer.allocUnsafe(12);
    this.tag.copy(ctx, 0);
    ctx.writeUIntBE(++this.seq, 4, 6);
    ctx.writeUInt16BE(0, 10);
    return ctx;
  }
}
