// An in-memory KeyspaceSource: a replica plus the log of deltas committed to it, with
// compaction into a snapshot. Used by tests and simulations, and usable by a shell that
// keeps its log in memory (its positions restart with a new logId).
import type { CausalContext } from '../clock/causal-context.ts';
import type { ReplicaId } from '../clock/replica-id.ts';
import type { Delta } from '../crdt/delta.ts';
import type { MapStore } from '../crdt/map-store.ts';
import type { Replica } from '../doc/replica.ts';
import { assert } from '../errors.ts';
import type { KeyspaceSource, LogEntry, PositionedBytes } from './keyspace-source.ts';

export interface MemoryKeyspaceLogOptions {
  /**
   * The log's id while it holds no entry yet; it takes `logId` with its first entry (as the
   * origin's keyspaces do: their log id is fixed at the first commit). Default: `logId` throughout.
   */
  emptyLogId?: string;
}

export class MemoryKeyspaceLog implements KeyspaceSource {
  readonly replica: Replica;
  private readonly fullLogId: string;
  private readonly emptyLogId: string;
  /** Entries at positions compacted+1 .. headPosition, in order. */
  private entries: LogEntry[];
  private headPosition: number;
  private compacted: number;
  private snap: PositionedBytes | undefined;

  constructor(replica: Replica, logId: string, options: MemoryKeyspaceLogOptions = {}) {
    this.replica = replica;
    this.fullLogId = logId;
    this.emptyLogId = options.emptyLogId ?? logId;
    this.entries = [];
    this.headPosition = 0;
    this.compacted = 0;
    this.snap = undefined;
  }

  get logId(): string {
    return this.headPosition === 0 ? this.emptyLogId : this.fullLogId;
  }

  get keyspace(): string {
    return this.replica.keyspace;
  }

  get replicaId(): ReplicaId {
    return this.replica.id;
  }

  /**
   * Commits a validated delta: applies it and appends it, unless the replica already holds
   * every dot it speaks for (a resent change). Returns the position that holds it.
   */
  commit(delta: Delta<MapStore>, bytes: Uint8Array, origin: ReplicaId | undefined): number {
    if (this.replica.contextOf().includes(delta.context)) return this.headPosition;
    this.replica.applyDelta(delta);
    const position = ++this.headPosition;
    this.entries.push({ position, bytes, origin });
    return position;
  }

  /** Appends a change the replica already holds (a local op of the server's replica). */
  appendApplied(bytes: Uint8Array, origin: ReplicaId | undefined): number {
    const position = ++this.headPosition;
    this.entries.push({ position, bytes, origin });
    return position;
  }

  /** Drops every entry, keeping a snapshot of the state at the head instead. */
  compact(): void {
    this.snap = { position: this.headPosition, bytes: this.replica.encode() };
    this.entries = [];
    this.compacted = this.headPosition;
  }

  head(): number {
    return this.headPosition;
  }

  compactedThrough(): number {
    return this.compacted;
  }

  read(position: number, maxBytes: number, maxEntries: number): readonly LogEntry[] {
    assert(position >= this.compacted, `read from ${position}, but the log is compacted through ${this.compacted}`);
    const out: LogEntry[] = [];
    let bytes = 0;
    for (let i = position - this.compacted; i < this.entries.length && out.length < maxEntries; i++) {
      const e = this.entries[i]!;
      if (out.length > 0 && bytes + e.bytes.length > maxBytes) break;
      out.push(e);
      bytes += e.bytes.length;
    }
    return out;
  }

  snapshot(): PositionedBytes {
    if (this.snap === undefined) this.snap = { position: this.headPosition, bytes: this.replica.encode() };
    return this.snap;
  }

  context(): CausalContext {
    return this.replica.contextOf();
  }

  deltaSince(context: CausalContext): PositionedBytes {
    return { position: this.headPosition, bytes: this.replica.encodeDelta(this.replica.deltaSince(context)) };
  }

  /** Payload bytes of the entries still kept. */
  get retainedBytes(): number {
    let n = 0;
    for (const e of this.entries) n += e.bytes.length;
    return n;
  }
}
