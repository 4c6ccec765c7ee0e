// The writes a node proposed and has not answered yet, by sequence number, each with its
// deadline. Deadlines are swept by one timer per node instead of a timer, two closures
// and a promise race per write (withTimeout): at tens of thousands of writes per second
// those were a visible share of the leader's CPU. A write past its deadline fails with
// NodeTimeoutError at the next sweep (so up to SWEEP_MS late); it may still commit, and
// its answer is then dropped.
import type { KvCommand, KvResult } from '../../../core/src/kv/commands.ts';
import { NodeTimeoutError } from '../node/errors.ts';

const SWEEP_MS = 20;

interface Pending {
  readonly resolve: (r: KvResult) => void;
  readonly reject: (e: unknown) => void;
  readonly deadline: number;
  readonly timeoutMs: number;
  /** When Raft took it (performance.now()); 0 while it waits for the loop's next turn. */
  proposedAt: number;
  /** The command, when it was decoded from the very bytes proposed (reused on apply). */
  readonly command: KvCommand | undefined;
}

/**
 * Where an answered write's time went on this node, in ms: waiting for the Ready loop to
 * propose it (`queuedMs`), and from proposal to its answer (`commitMs`: replication,
 * fdatasync on a quorum, apply).
 */
export type WriteStagesListener = (queuedMs: number, commitMs: number) => void;

export class ProposalTable {
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private sweeper: NodeJS.Timeout | null = null;
  private readonly onStages: WriteStagesListener | undefined;

  constructor(onStages?: WriteStagesListener) {
    this.onStages = onStages;
  }

  get size(): number {
    return this.pending.size;
  }

  /**
   * A new sequence number and the promise its answer (or failure) settles. `command` only
   * if decoding the proposed bytes gives exactly it (see commandOf).
   */
  add(timeoutMs: number, command?: KvCommand): { seq: number; done: Promise<KvResult> } {
    const seq = ++this.seq;
    const deadline = performance.now() + timeoutMs;
    const done = new Promise<KvResult>((resolve, reject) => this.pending.set(seq, { resolve, reject, deadline, timeoutMs, proposedAt: 0, command }));
    if (this.sweeper === null) {
      this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
      this.sweeper.unref();
    }
    return { seq, done };
  }

  /** Raft took these writes now. */
  proposed(seqs: readonly number[]): void {
    if (this.onStages === undefined) return;
    const now = performance.now();
    for (const seq of seqs) {
      const p = this.pending.get(seq);
      if (p !== undefined) p.proposedAt = now;
    }
  }

  /** The command decoded from write `seq`'s bytes when it was taken, while it is pending. */
  commandOf(seq: number): KvCommand | undefined {
    return this.pending.get(seq)?.command;
  }

  resolve(seq: number, result: KvResult): void {
    const p = this.pending.get(seq);
    if (p === undefined) return; // timed out already
    this.pending.delete(seq);
    if (this.onStages !== undefined && p.proposedAt > 0) {
      const accepted = p.deadline - p.timeoutMs;
      this.onStages(p.proposedAt - accepted, performance.now() - p.proposedAt);
    }
    p.resolve(result);
  }

  reject(seq: number, err: unknown): void {
    const p = this.pending.get(seq);
    if (p === undefined) return;
    this.pending.delete(seq);
    p.reject(err);
  }

  /** Fails every pending write (the node stops). */
  rejectAll(err: unknown): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.stopSweeper();
  }

  private sweep(): void {
    if (this.pending.size === 0) return this.stopSweeper();
    const now = performance.now();
    for (const [seq, p] of this.pending) {
      if (p.deadline > now) continue;
      this.pending.delete(seq);
      p.reject(new NodeTimeoutError(`write did not finish within ${p.timeoutMs} ms`));
    }
  }

  private stopSweeper(): void {
    if (this.sweeper !== null) clearInterval(this.sweeper);
    this.sweeper = null;
  }
}
