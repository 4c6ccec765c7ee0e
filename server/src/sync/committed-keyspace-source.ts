// A KeyspaceSource over the origin's committed CRDT stream: the keyspace's replica lives in
// the replicated state machine (core/src/kv/crdt-keyspaces.ts); this keeps the deltas
// committed since it was created in memory, in log order, up to `maxRetainedBytes`. Older
// positions are read back from the state machine's stored tail records (the same positions,
// bytes and origins on every node), so a client that synced through another node, or
// through this one before it restarted, resumes by log here too. Only a cursor older than
// both (the tail was folded into the base, or the stored range exceeds `maxRetainedBytes`)
// is served a snapshot of the replica.
import { CausalContext } from '../../../core/src/clock/causal-context.ts';
import type { ReplicaId } from '../../../core/src/clock/replica-id.ts';
import { Replica } from '../../../core/src/doc/replica.ts';
import { type CrdtKeyspace, type CrdtLogEntry, ORIGIN_REPLICA_ID } from '../../../core/src/kv/crdt-keyspaces.ts';
import type { KvStateMachine } from '../../../core/src/kv/state-machine.ts';
import type { KeyspaceSource, LogEntry, PositionedBytes } from '../../../core/src/sync/keyspace-source.ts';

/**
 * logId of a keyspace no delta was committed to yet (its head is 0). Every cluster's empty
 * keyspace has this id, so it names no particular log: at the first commit the keyspace
 * takes its real id (`<ks>@<index>.<hash of the first delta>`), and each session streaming it tells its client
 * with a `log` message (server-session.ts) before any position of the real log.
 */
export const EMPTY_LOG_ID = 'empty';

export class CommittedKeyspaceSource implements KeyspaceSource {
  readonly keyspace: string;
  private readonly sm: KvStateMachine;
  private readonly maxRetainedBytes: number;
  private entries: CrdtLogEntry[] = [];
  private retainedBytes = 0;
  /** Entries after this position are in `entries`; older ones only in storage. */
  private compacted: number;
  /** The head the kept entries lead up to; a different head means the state was replaced. */
  private knownHead: number;
  private snap: PositionedBytes | undefined;
  /** An empty replica for keyspaces without state yet. */
  private readonly empty: Replica;

  constructor(sm: KvStateMachine, keyspace: string, maxRetainedBytes = 8 << 20) {
    this.sm = sm;
    this.keyspace = keyspace;
    this.maxRetainedBytes = maxRetainedBytes;
    this.empty = new Replica({ replicaId: ORIGIN_REPLICA_ID, keyspace });
    // Entries committed before this source was created are not in memory: read from storage.
    this.compacted = this.state()?.position ?? 0;
    this.knownHead = this.compacted;
  }

  private state(): CrdtKeyspace | undefined {
    return this.sm.crdtKeyspace(this.keyspace);
  }

  private replica(): Replica {
    return this.state()?.replica ?? this.empty;
  }

  get replicaId(): ReplicaId {
    return ORIGIN_REPLICA_ID;
  }

  get logId(): string {
    return this.state()?.logId ?? EMPTY_LOG_ID;
  }

  /** The state machine joined and stored these entries (in order, after the current head). */
  append(entries: readonly CrdtLogEntry[]): void {
    for (const e of entries) {
      this.entries.push(e);
      this.retainedBytes += e.bytes.length;
      this.knownHead = e.position;
    }
    while (this.retainedBytes > this.maxRetainedBytes && this.entries.length > 1) {
      const dropped = this.entries.shift()!;
      this.retainedBytes -= dropped.bytes.length;
      this.compacted = dropped.position;
    }
  }

  /** Storage was replaced (snapshot restore): everything before the new head is a snapshot. */
  reset(): void {
    this.entries = [];
    this.retainedBytes = 0;
    this.compacted = this.state()?.position ?? 0;
    this.knownHead = this.compacted;
    this.snap = undefined;
  }

  head(): number {
    const h = this.state()?.position ?? 0;
    // The state moved without entries reaching us (a Raft snapshot was installed): what
    // lies between is only in the snapshot now.
    if (h !== this.knownHead) this.reset();
    return h;
  }

  compactedThrough(): number {
    this.head();
    const stored = this.sm.crdtLogStart(this.keyspace, this.maxRetainedBytes);
    return stored === undefined ? this.compacted : Math.min(this.compacted, stored);
  }

  read(position: number, maxBytes: number, maxEntries: number): readonly LogEntry[] {
    // Before the in-memory window: page through the stored tail (it holds every later entry).
    if (position < this.compacted) return this.sm.readCrdtLog(this.keyspace, position, maxBytes, maxEntries);
    const out: LogEntry[] = [];
    let bytes = 0;
    // Binary search for the first entry after `position`.
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.entries[mid]!.position <= position) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.entries.length && out.length < maxEntries; i++) {
      const e = this.entries[i]!;
      if (out.length > 0 && bytes + e.bytes.length > maxBytes) break;
      out.push(e);
      bytes += e.bytes.length;
    }
    return out;
  }

  snapshot(): PositionedBytes {
    const head = this.head();
    if (this.snap === undefined || this.snap.position !== head) this.snap = { position: head, bytes: this.replica().encode() };
    return this.snap;
  }

  context(): CausalContext {
    return this.state()?.replica.contextOf() ?? new CausalContext();
  }

  deltaSince(context: CausalContext): PositionedBytes {
    const r = this.replica();
    return { position: this.head(), bytes: r.encodeDelta(r.deltaSince(context)) };
  }
}
