// Local undo and redo for a Sequence. Only this replica's own edits are recorded, by
// element id rather than by index, so undo stays correct while others keep editing:
//  - undoing an insert deletes exactly the elements this replica inserted that are still
//    visible (concurrent remote text around or inside them is untouched);
//  - undoing a delete re-inserts the removed content right before its tombstones (new ids,
//    since deletion in this CRDT is final).
//  - when deleted content is restored under new ids, the manager remembers old → new, so a
//    later undo of the insert that first created that content removes the restored copy
//    too (Yjs calls this following the "redone" chain).
// Edits closer together than `captureTimeoutMs` (a burst of typing) form one undo step.
// Time is a parameter: the caller passes its clock reading with every edit.
import { CausalContext } from '../clock/causal-context.ts';
import type { ReplicaId } from '../clock/replica-id.ts';
import { InvalidArgumentError } from '../errors.ts';
import type { DotClock, SequenceDelta } from './delta.ts';
import type { IdRun, RemovedRun, Sequence } from './sequence.ts';

export const UndoOpKind = { Inserted: 0, Deleted: 1 } as const;
export type UndoOpKind = (typeof UndoOpKind)[keyof typeof UndoOpKind];

/** Runs of elements with their content: what an edit inserted, or what it deleted. */
interface UndoOp<C> {
  kind: UndoOpKind;
  runs: RemovedRun<C>[];
}

interface UndoStep<C> {
  ops: UndoOp<C>[];
  lastMs: number;
}

export interface UndoManagerOptions {
  /** Edits less than this apart join one undo step. @default 500 */
  captureTimeoutMs?: number;
  /** Bound on the undo stack; the oldest steps are dropped. @default 1000 */
  maxSteps?: number;
}

export class UndoManager<C> {
  readonly sequence: Sequence<C>;
  readonly clock: DotClock;
  readonly captureTimeoutMs: number;
  readonly maxSteps: number;
  private undoStack: UndoStep<C>[];
  private redoStack: UndoStep<C>[];
  /** When set, the next edit starts a new step whatever the time. */
  private split: boolean;
  /** Restored runs: old ids replica:counter+length now live again as newReplica:newCounter. */
  private readonly restored: { replica: number; counter: number; length: number; newReplica: ReplicaId; newCounter: number }[];

  constructor(sequence: Sequence<C>, clock: DotClock, options: UndoManagerOptions = {}) {
    this.sequence = sequence;
    this.clock = clock;
    this.captureTimeoutMs = options.captureTimeoutMs ?? 500;
    this.maxSteps = options.maxSteps ?? 1000;
    if (!(this.captureTimeoutMs >= 0) || !(this.maxSteps >= 1)) throw new InvalidArgumentError('bad undo manager options');
    this.undoStack = [];
    this.redoStack = [];
    this.split = false;
    this.restored = [];
  }

  get canUndo(): boolean {
    return this.undoStack.length > 0;
  }

  get canRedo(): boolean {
    return this.redoStack.length > 0;
  }

  /** Makes the next edit start a new undo step. */
  stopCapturing(): void {
    this.split = true;
  }

  /** Inserts locally and records the edit. */
  insert(index: number, content: C, nowMs: number): SequenceDelta<C> {
    const delta = this.sequence.insert(index, content, this.clock);
    const runs: RemovedRun<C>[] = [];
    for (const it of delta.items) runs.push({ replica: it.replica, counter: it.counter, content: it.content! });
    if (runs.length > 0) this.record({ kind: UndoOpKind.Inserted, runs }, nowMs);
    return delta;
  }

  /** Deletes locally and records the edit with the removed content. */
  delete(index: number, length: number, nowMs: number): SequenceDelta<C> {
    const runs: RemovedRun<C>[] = [];
    const delta = this.sequence.deleteRange(index, length, this.clock, runs);
    if (runs.length > 0) this.record({ kind: UndoOpKind.Deleted, runs }, nowMs);
    return delta;
  }

  /** Reverts the last step; returns the delta to broadcast (undefined: nothing to undo). */
  undo(): SequenceDelta<C> | undefined {
    const step = this.undoStack.pop();
    if (step === undefined) return undefined;
    const { delta, inverse } = this.revert(step);
    this.redoStack.push(inverse);
    this.split = true;
    return delta;
  }

  /** Re-applies the last undone step. */
  redo(): SequenceDelta<C> | undefined {
    const step = this.redoStack.pop();
    if (step === undefined) return undefined;
    const { delta, inverse } = this.revert(step);
    this.undoStack.push(inverse);
    this.split = true;
    return delta;
  }

  private record(op: UndoOp<C>, nowMs: number): void {
    this.redoStack.length = 0;
    const top = this.undoStack.length > 0 ? this.undoStack[this.undoStack.length - 1]! : undefined;
    if (top !== undefined && !this.split && nowMs - top.lastMs < this.captureTimeoutMs) {
      top.ops.push(op);
      top.lastMs = nowMs;
      return;
    }
    this.split = false;
    this.undoStack.push({ ops: [op], lastMs: nowMs });
    if (this.undoStack.length > this.maxSteps) this.undoStack.shift();
  }

  /** Applies the inverse of every op of `step`, last first; returns the step that undoes that. */
  private revert(step: UndoStep<C>): { delta: SequenceDelta<C>; inverse: UndoStep<C> } {
    const delta: SequenceDelta<C> = { items: [], deleteDots: new CausalContext(), deletedIds: new CausalContext() };
    const inverseOps: UndoOp<C>[] = [];
    for (let i = step.ops.length - 1; i >= 0; i--) {
      const op = step.ops[i]!;
      const inv = op.kind === UndoOpKind.Inserted ? this.removeRuns(op.runs, delta) : this.restoreRuns(op.runs, delta);
      // In the order applied: reverting the inverse step then replays the original order.
      if (inv.runs.length > 0) inverseOps.push(inv);
    }
    return { delta, inverse: { ops: inverseOps, lastMs: step.lastMs } };
  }

  private removeRuns(runs: RemovedRun<C>[], out: SequenceDelta<C>): UndoOp<C> {
    const ids: IdRun[] = [];
    const kind = this.sequence.kind;
    for (const run of runs) ids.push({ replica: run.replica, counter: run.counter, length: kind.length(run.content) });
    // Follow restorations: content of these ids that was deleted and restored lives on under new ids.
    for (let i = 0; i < ids.length && ids.length < 100_000; i++) {
      const run = ids[i]!;
      for (const m of this.restored) {
        if (m.replica !== run.replica) continue;
        const s = Math.max(m.counter, run.counter);
        const e = Math.min(m.counter + m.length, run.counter + run.length);
        if (s < e) ids.push({ replica: m.newReplica, counter: m.newCounter + (s - m.counter), length: e - s });
      }
    }
    const removed: RemovedRun<C>[] = [];
    const d = this.sequence.deleteIds(ids, this.clock, removed);
    out.deleteDots.merge(d.deleteDots);
    out.deletedIds.merge(d.deletedIds);
    return { kind: UndoOpKind.Deleted, runs: removed };
  }

  private restoreRuns(runs: RemovedRun<C>[], out: SequenceDelta<C>): UndoOp<C> {
    const seq = this.sequence;
    const inserted: RemovedRun<C>[] = [];
    for (const run of runs) {
      const d = seq.insertBeforeId(run.replica, run.counter, run.content, this.clock);
      if (d === undefined) continue;
      for (const it of d.items) {
        this.restored.push({ replica: run.replica, counter: run.counter, length: it.length, newReplica: it.replica, newCounter: it.counter });
        out.items.push(it);
        inserted.push({ replica: it.replica as ReplicaId, counter: it.counter, content: it.content! });
      }
    }
    return { kind: UndoOpKind.Inserted, runs: inserted };
  }
}
