// Handles on text and list values: index-based edits, stable cursors, and an undo manager
// scoped to this replica's own edits.
import type { JsonValue } from '../codec/json-value.ts';
import type { Delta } from '../crdt/delta.ts';
import { CrdtType } from '../crdt/dot-store.ts';
import type { MapStore } from '../crdt/map-store.ts';
import type { SequenceStore, SequenceType } from '../crdt/sequence-store.ts';
import { InvalidArgumentError } from '../errors.ts';
import { type DotClock, type Patch, PatchKind, type RelativePosition } from '../text/delta.ts';
import { UndoManager, type UndoManagerOptions } from '../text/undo-manager.ts';
import { checkTextDelete, checkTextInsert } from '../text/utf16.ts';
import type { HandleHost } from './handles.ts';

abstract class SequenceHandle<C> {
  constructor(
    protected readonly host: HandleHost,
    readonly path: readonly string[],
    private readonly seqType: SequenceType,
  ) {}

  protected store(): SequenceStore<C> | undefined {
    return this.host.ops.readTyped(this.path, this.seqType) as SequenceStore<C> | undefined;
  }

  get length(): number {
    return this.store()?.state().length ?? 0;
  }

  /** A cursor before the element now at `index` (at the end when index === length). */
  cursor(index: number): RelativePosition {
    this.checkIndex(index, 0);
    return this.host.ops.sequenceAt<C>(this.path, this.seqType).state().cursor(index);
  }

  /** Where a cursor points now. */
  resolve(position: RelativePosition): number {
    return this.store()?.state().resolve(position) ?? 0;
  }

  /** Deletes `length` elements from `index`. */
  delete(index: number, length: number): Delta<MapStore> {
    this.checkIndex(index, length);
    return this.edit([{ kind: PatchKind.Delete, index, length }], (seq, clock) => seq.delete(index, length, clock));
  }

  protected insertContent(index: number, content: C): Delta<MapStore> {
    this.checkIndex(index, 0);
    return this.edit([{ kind: PatchKind.Insert, index, content }], (seq, clock) => seq.insert(index, content, clock));
  }

  protected edit(patches: Patch<C>[], run: Parameters<HandleHost['ops']['sequenceEdit']>[2]): Delta<MapStore> {
    return this.host.commit(this.path, () => {
      const delta = this.host.ops.sequenceEdit<C>(this.path, this.seqType, run as never);
      this.host.ops.sequenceAt<C>(this.path, this.seqType).patches = patches;
      return delta;
    });
  }

  protected checkIndex(index: number, length: number): void {
    if (!Number.isSafeInteger(index) || !Number.isSafeInteger(length) || index < 0 || length < 0 || index + length > this.length) {
      throw new InvalidArgumentError(`range ${index}..${index + length} is outside a sequence of length ${this.length}`);
    }
  }

  /**
   * An undo manager for this value: edits made through it can be undone and redone;
   * a burst of edits within `captureTimeoutMs` is one step; other replicas' edits are
   * never undone. Undo and redo emit a change event without patches (read `value`).
   */
  undoManager(options?: UndoManagerOptions): SequenceUndo<C> {
    return new SequenceUndo<C>(this.host, this.path, this.seqType, options);
  }
}

export class TextHandle extends SequenceHandle<string> {
  constructor(host: HandleHost, path: readonly string[]) {
    super(host, path, CrdtType.Text);
  }

  override toString(): string {
    return this.store()?.state().content().join('') ?? '';
  }

  insert(index: number, text: string): Delta<MapStore> {
    if (typeof text !== 'string' || text.length === 0) throw new InvalidArgumentError('insert needs a non-empty string');
    this.checkIndex(index, 0);
    checkTextInsert(this.store()?.state(), index, text);
    return this.insertContent(index, text);
  }

  override delete(index: number, length: number): Delta<MapStore> {
    this.checkIndex(index, length);
    checkTextDelete(this.store()?.state(), index, length);
    return super.delete(index, length);
  }
}

export class ListHandle extends SequenceHandle<JsonValue[]> {
  constructor(host: HandleHost, path: readonly string[]) {
    super(host, path, CrdtType.List);
  }

  toArray(): JsonValue[] {
    return this.store()?.state().content().flat() ?? [];
  }

  get(index: number): JsonValue | undefined {
    return this.toArray()[index];
  }

  insert(index: number, ...values: JsonValue[]): Delta<MapStore> {
    if (values.length === 0) throw new InvalidArgumentError('insert needs at least one value');
    for (const v of values) this.host.checkValue(v);
    return this.insertContent(index, values);
  }

  push(...values: JsonValue[]): Delta<MapStore> {
    return this.insert(this.length, ...values);
  }
}

/** Local undo and redo for one text or list (see SequenceHandle.undoManager). */
export class SequenceUndo<C> {
  private manager: UndoManager<C> | undefined;
  /** The clock of the edit in progress: the manager draws counters through it. */
  private clock: DotClock | undefined;

  constructor(
    private readonly host: HandleHost,
    readonly path: readonly string[],
    private readonly seqType: SequenceType,
    private readonly options: UndoManagerOptions | undefined,
  ) {}

  insert(index: number, content: C): Delta<MapStore> {
    return this.run([{ kind: PatchKind.Insert, index, content }], (m) => m.insert(index, content, this.host.now()));
  }

  delete(index: number, length: number): Delta<MapStore> {
    return this.run([{ kind: PatchKind.Delete, index, length }], (m) => m.delete(index, length, this.host.now()));
  }

  /** Undoes this replica's last step; undefined when there is none. */
  undo(): Delta<MapStore> | undefined {
    return this.manager?.canUndo ? this.run(undefined, (m) => m.undo()!) : undefined;
  }

  redo(): Delta<MapStore> | undefined {
    return this.manager?.canRedo ? this.run(undefined, (m) => m.redo()!) : undefined;
  }

  get canUndo(): boolean {
    return this.manager?.canUndo ?? false;
  }

  get canRedo(): boolean {
    return this.manager?.canRedo ?? false;
  }

  stopCapturing(): void {
    this.manager?.stopCapturing();
  }

  private run(patches: Patch<C>[] | undefined, op: (m: UndoManager<C>) => ReturnType<UndoManager<C>['undo']> & object): Delta<MapStore> {
    return this.host.commit(this.path, () =>
      this.host.ops.sequenceEdit<C>(this.path, this.seqType, (seq, clock) => {
        // One manager per sequence object; its clock forwards to the edit's clock.
        if (this.manager === undefined || this.manager.sequence !== seq) {
          this.manager = new UndoManager<C>(seq, { next: (n) => this.clock!.next(n) }, this.options);
        }
        this.clock = clock;
        const d = op(this.manager);
        const store = this.host.ops.sequenceAt<C>(this.path, this.seqType);
        store.patches = patches ?? [];
        return d;
      }),
    );
  }
}
