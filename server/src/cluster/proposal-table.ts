// The writes a node proposed and has not answered yet, by sequence number, each with its
// deadline. Deadlines are swept by one timer per node instead of a timer, two closures
// and a promise race per write (withTimeout): at tens of thousands of writes per second
// those were a visible share of the leader's CPU. A write past its deadline fails with
// NodeTimeoutError at the next sweep (so up to SWEEP_MS late); it may still commit, and
// its answer is then dropped. A sweep costs what it removes, not what is pending: writes
// wait in one FIFO per timeout, and since performance.now() only grows, each FIFO is in
// deadline order; a sweep pops the FIFOs' heads that are answered already, takes the due
// ones up to each FIFO's first write not yet due, and fails them earliest deadline first.
// Writes mostly share one timeout and are answered in about the order they came, so the
// FIFOs mostly hold what is still waiting. A write that waits long keeps the sequence
// numbers of the answered writes behind it in its FIFO until it is answered or fails: at
// most its timeout's worth of writes (10 s at 50,000 writes/s: 500,000 numbers, ~4 MB).
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

/** Sequence numbers of writes with one timeout, oldest (so earliest deadline) first. */
class SeqQueue {
  private seqs: number[] = [];
  private head = 0;

  push(seq: number): void {
    this.seqs.push(seq);
  }

  peek(): number | undefined {
    return this.head < this.seqs.length ? this.seqs[this.head] : undefined;
  }

  shift(): void {
    this.head++;
    // Drop the consumed front once it is half the array: amortised O(1) per write.
    if (this.head >= 1024 && this.head * 2 >= this.seqs.length) {
      this.seqs = this.seqs.slice(this.head);
      this.head = 0;
    }
  }
}

export class ProposalTable {
  private readonly pending = new Map<number, Pending>();
  /** Per timeoutMs, the writes added with it, in deadline order (answered ones popped lazily). */
  private readonly byTimeout = new Map<number, SeqQueue>();
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
    let queue = this.byTimeout.get(timeoutMs);
    if (queue === undefined) this.byTimeout.set(timeoutMs, (queue = new SeqQueue()));
    queue.push(seq);
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
    this.byTimeout.clear();
    this.stopSweeper();
  }

  private sweep(): void {
    if (this.pending.size === 0) {
      this.byTimeout.clear(); // only answered writes left in the FIFOs
      return this.stopSweeper();
    }
    const now = performance.now();
    // Take every due write from each FIFO's front, then fail them earliest deadline first
    // across the FIFOs: O(due log due + FIFOs), however many distinct timeouts clients use.
    const due: Pending[] = [];
    for (const [timeoutMs, queue] of this.byTimeout) {
      for (let p = this.firstWaiting(queue); p !== undefined && p.deadline <= now; p = this.firstWaiting(queue)) {
        this.pending.delete(queue.peek()!);
        queue.shift();
        due.push(p);
      }
      if (queue.peek() === undefined) this.byTimeout.delete(timeoutMs);
    }
    if (due.length > 1) due.sort((a, b) => a.deadline - b.deadline);
    for (const p of due) p.reject(new NodeTimeoutError(`write did not finish within ${p.timeoutMs} ms`));
  }

  /** The oldest write of `queue` still waiting, after popping the answered ones before it. */
  private firstWaiting(queue: SeqQueue): Pending | undefined {
    for (let seq = queue.peek(); seq !== undefined; seq = queue.peek()) {
      const p = this.pending.get(seq);
      if (p !== undefined) return p;
      queue.shift();
    }
    return undefined;
  }

  private stopSweeper(): void {
    if (this.sweeper !== null) clearInterval(this.sweeper);
    this.sweeper = null;
  }
}
