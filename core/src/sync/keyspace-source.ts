// What a server session reads from its shell: one keyspace's log of committed deltas
// (positions only grow; entries up to `compactedThrough` are gone), the snapshot taken at
// compaction, and the replica state for the context-exchange fallback. The origin backs it
// with its Raft log and state machine, an edge with Durable Object storage, tests with
// MemoryKeyspaceLog.
import type { CausalContext } from '../clock/causal-context.ts';
import type { ReplicaId } from '../clock/replica-id.ts';

export interface LogEntry {
  /** Grows along the log; may skip numbers (e.g. Raft indexes shared by many keyspaces). */
  readonly position: number;
  /** The encoded delta. */
  readonly bytes: Uint8Array;
  /** The replica that sent it, when known: its own changes are not echoed back to it. */
  readonly origin: ReplicaId | undefined;
}

/** Encoded state (a snapshot or a delta) that brings a replica to `position`. */
export interface PositionedBytes {
  readonly position: number;
  readonly bytes: Uint8Array;
}

export interface KeyspaceSource {
  readonly keyspace: string;
  /** The server replica's id (sent in `welcome`). */
  readonly replicaId: ReplicaId;
  /**
   * Identity of the log; cursors from another log are not resumed (except at position 0,
   * which holds nothing of any log). Positions of one logId only ever grow: a log that
   * restarts its positions (restored from a backup, rebuilt) must take a new logId, or
   * clients would resume at positions that mean other entries. It may change while
   * sessions stream (the origin's empty keyspace takes its real id at its first commit):
   * each session then tells its client with a `log` message before sending any position
   * of the new log, and goes on from that log's start.
   */
  readonly logId: string;
  /** Position of the newest entry, 0 when none. */
  head(): number;
  /** Entries up to this position are compacted away; a cursor behind it needs a snapshot. */
  compactedThrough(): number;
  /**
   * Entries after `position` in order: as many as fit in `maxBytes` of payload, but at
   * least one when any exists; at most `maxEntries`.
   */
  read(position: number, maxBytes: number, maxEntries: number): readonly LogEntry[];
  /** The whole state at some position ≥ compactedThrough; the same object while that holds. */
  snapshot(): PositionedBytes;
  /** The server's causal context (context-exchange fallback only). */
  context(): CausalContext;
  /** What a replica at `context` lacks, as an encoded delta, and the head it brings it to. */
  deltaSince(context: CausalContext): PositionedBytes;
}
