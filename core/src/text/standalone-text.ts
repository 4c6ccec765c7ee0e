// A standalone collaborative text: one Sequence of strings with its own causal context and
// counter. The Replica embeds Sequences in a shared keyspace instead; this wrapper is for
// single-text uses, the trace tests and the benchmark.
import { CausalContext } from '../clock/causal-context.ts';
import type { ReplicaId } from '../clock/replica-id.ts';
import { Reader } from '../codec/reader.ts';
import { Writer } from '../codec/writer.ts';
import { textKind } from './content.ts';
import type { DotClock, Patch, RelativePosition, SequenceDelta } from './delta.ts';
import { readDelta, writeDelta } from './delta-codec.ts';
import type { RemovedRun } from './sequence.ts';
import { Sequence } from './sequence.ts';
import { readState, writeState } from './state-codec.ts';
import { checkTextDelete, checkTextInsert } from './utf16.ts';

export class TextDocument implements DotClock {
  readonly replica: ReplicaId;
  /** Every dot integrated here (own and remote). */
  context: CausalContext;
  sequence: Sequence<string>;
  /** Invariant: the highest counter this replica has used. */
  private counter: number;
  private readonly writer: Writer;

  constructor(replica: ReplicaId) {
    this.replica = replica;
    this.context = new CausalContext();
    this.sequence = new Sequence<string>(replica, textKind);
    this.counter = 0;
    this.writer = new Writer(1024);
  }

  next(count: number): number {
    const c = this.counter + 1;
    this.counter += count;
    // One dot (a keystroke) takes the context's append fast path.
    if (count === 1) this.context.add(this.replica, c);
    else this.context.addRange(this.replica, c, this.counter);
    return c;
  }

  get length(): number {
    return this.sequence.length;
  }

  toString(): string {
    return this.sequence.content().join('');
  }

  insert(index: number, text: string): SequenceDelta<string> {
    if (index >= 0 && index <= this.sequence.length) checkTextInsert(this.sequence, index, text);
    return this.sequence.insert(index, text, this);
  }

  delete(index: number, length: number): SequenceDelta<string> {
    if (index >= 0 && length >= 0 && index + length <= this.sequence.length) checkTextDelete(this.sequence, index, length);
    return this.sequence.delete(index, length, this);
  }

  /** Deletes and reports the removed runs with their text (for the undo manager). */
  deleteRange(index: number, length: number, removed: RemovedRun<string>[]): SequenceDelta<string> {
    return this.sequence.deleteRange(index, length, this, removed);
  }

  apply(delta: SequenceDelta<string>): Patch<string>[] {
    return this.sequence.apply(delta, this.context);
  }

  since(ctx: CausalContext): SequenceDelta<string> | undefined {
    return this.sequence.since(ctx);
  }

  /** Pulls everything `other` has that this text lacks. */
  mergeFrom(other: TextDocument): Patch<string>[] {
    const d = other.since(this.context);
    return d === undefined ? [] : this.apply(d);
  }

  collectGarbage(stable: CausalContext): void {
    this.sequence.collectGarbage(stable);
  }

  cursor(index: number): RelativePosition {
    return this.sequence.cursor(index);
  }

  resolve(pos: RelativePosition): number {
    return this.sequence.resolve(pos);
  }

  encodeDelta(delta: SequenceDelta<string>): Uint8Array {
    const w = this.writer;
    w.reset();
    writeDelta(w, this.sequence.kind, delta);
    return w.finish();
  }

  decodeDelta(bytes: Uint8Array): SequenceDelta<string> {
    const r = new Reader(bytes);
    const d = readDelta(r, this.sequence.kind);
    r.end();
    return d;
  }

  /** The whole text: its context and its sequence. */
  encodeState(): Uint8Array {
    const w = new Writer(1 << 16);
    writeState(w, this.sequence);
    return w.finish();
  }

  /** Replaces this text's content with a decoded state; nothing changes if it throws. */
  loadState(bytes: Uint8Array): void {
    const r = new Reader(bytes);
    const { sequence, dots: context } = readState(r, this.replica, textKind);
    r.end();
    this.sequence = sequence;
    this.context = context;
    this.counter = Math.max(this.counter, context.max(this.replica));
  }

  /** A new replica `replica` holding everything this text holds. */
  fork(replica: ReplicaId): TextDocument {
    const doc = new TextDocument(replica);
    doc.sequence = this.sequence.clone(replica);
    doc.context = this.context.clone();
    doc.counter = doc.context.max(replica);
    return doc;
  }
}
