// A keyspace's durable log in a Durable Object's SQLite storage, as the KeyspaceSource that
// the edge's server sessions read. The replica state lives in memory (rebuilt at load from
// the stored snapshot plus the log after it); every accepted change is written to the log
// table before anything is acknowledged. Positions are this object's own log sequence.
//
// Relay before the write (`stage`, then `flush` in the same turn): the object may send a
// client's change to the other clients before its row is written, so that workerd's output
// gate (which holds every message sent after a write until the write is durable) does not
// hold the fan-out; the author's ack is sent after the write and so still waits for it.
// A crash in between loses the row but not the change (its author resends it until acked);
// what must not happen is a receiver holding a cursor at a position that the restarted log
// gives to another entry: it would skip that entry. So positions are reserved in durable
// blocks (np_meta reservedThrough): an entry is staged only at a position inside a
// reservation known to be durable (`confirm`), and a reopened log numbers its next entry
// after the last reservation, never reusing a position that may have been relayed.
//
// Tables:
//   np_meta(k TEXT PRIMARY KEY, v)            logId, replicaId, keyspace, snapshot, snapshotPosition,
//                                             reservedThrough
//   np_log(position INTEGER PRIMARY KEY,      one row per accepted delta, in order
//          bytes BLOB, origin INTEGER)
import type { CausalContext } from '../../core/src/clock/causal-context.ts';
import type { ReplicaId } from '../../core/src/clock/replica-id.ts';
import type { Delta } from '../../core/src/crdt/delta.ts';
import type { MapStore } from '../../core/src/crdt/map-store.ts';
import { Replica } from '../../core/src/doc/replica.ts';
import type { KeyspaceSource, LogEntry, PositionedBytes } from '../../core/src/sync/keyspace-source.ts';
import type { SqlStorage, SqlValue } from './cf-types.ts';

/**
 * Compact when this many rows sit in the log after the snapshot. Counted in rows, not
 * positions: positions skip up to RESERVED_POSITIONS at every restart, so a quiet keyspace
 * whose object wakes often would otherwise snapshot after a handful of changes.
 */
export const DEFAULT_COMPACT_AFTER_ENTRIES = 4096;
/** Newest entries kept in memory too: fan-out to many sessions reads them, not SQLite. */
export const RECENT_ENTRIES = 256;
/** Positions reserved at once for entries relayed before their write (see the header). */
export const RESERVED_POSITIONS = 1024;

export function bytesOf(v: SqlValue): Uint8Array {
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  throw new TypeError(`expected a blob, got ${typeof v}`);
}

export class SqlKeyspaceLog implements KeyspaceSource {
  readonly replica: Replica;
  readonly logId: string;
  private readonly sql: SqlStorage;
  private headPosition: number;
  private compacted: number;
  /** Rows in np_log after the snapshot (written and not yet compacted away). */
  private rowsSinceSnapshot: number;
  private snap: PositionedBytes | undefined;
  private readonly compactAfterEntries: number;
  /** The newest log entries, in order, ending at the head (at most RECENT_ENTRIES). */
  private recent: LogEntry[];
  /** Entries applied (and maybe relayed) whose rows `flush` writes, in order. */
  private staged: LogEntry[];
  /** The highest position whose row is written (durable once workerd's gate opens). */
  private written: number;
  /** The next entry goes after this too: the last run's reservation (no position reused). */
  private readonly numberAfter: number;
  /** The highest reservation written. */
  private reserved: number;
  /** The highest reservation known to be durable: `stage` uses positions up to here. */
  private confirmed: number;
  /** A reservation written and not yet handed out by takeReservation. */
  private unconfirmed: number | undefined;

  private constructor(sql: SqlStorage, replica: Replica, logId: string, head: number, compacted: number, rows: number, compactAfterEntries: number, reserved: number) {
    this.sql = sql;
    this.replica = replica;
    this.logId = logId;
    this.headPosition = head;
    this.compacted = compacted;
    this.rowsSinceSnapshot = rows;
    this.snap = undefined;
    this.compactAfterEntries = compactAfterEntries;
    this.recent = [];
    this.staged = [];
    this.written = head;
    this.numberAfter = reserved;
    this.reserved = reserved;
    // Durable (it was read back), but every position in it lies before numberAfter.
    this.confirmed = reserved;
    this.unconfirmed = undefined;
  }

  /**
   * Opens (creating on first use) the log of `keyspace`. `fresh` supplies a replica id and
   * a log id when none are stored yet (the caller owns randomness).
   */
  static open(sql: SqlStorage, keyspace: string, fresh: () => { replicaId: ReplicaId; logId: string }, compactAfterEntries = DEFAULT_COMPACT_AFTER_ENTRIES): SqlKeyspaceLog {
    sql.exec('CREATE TABLE IF NOT EXISTS np_meta (k TEXT PRIMARY KEY, v)');
    sql.exec('CREATE TABLE IF NOT EXISTS np_log (position INTEGER PRIMARY KEY, bytes BLOB NOT NULL, origin INTEGER)');
    const meta = readMeta(sql);
    let replicaId = meta.get('replicaId') as number | undefined;
    let logId = meta.get('logId') as string | undefined;
    if (replicaId === undefined || logId === undefined) {
      const f = fresh();
      replicaId = f.replicaId;
      logId = f.logId;
      writeMeta(sql, 'replicaId', replicaId);
      writeMeta(sql, 'logId', logId);
      writeMeta(sql, 'keyspace', keyspace);
    }
    const options = { replicaId: replicaId as ReplicaId, keyspace };
    const snapBlob = meta.get('snapshot');
    const compacted = (meta.get('snapshotPosition') as number | undefined) ?? 0;
    const replica = snapBlob === undefined || snapBlob === null ? new Replica(options) : Replica.decode(bytesOf(snapBlob), options);
    let head = compacted;
    let rows = 0;
    for (const row of sql.exec<{ position: number; bytes: ArrayBuffer }>('SELECT position, bytes FROM np_log WHERE position > ? ORDER BY position', compacted)) {
      replica.applyDelta(bytesOf(row.bytes));
      head = row.position;
      rows++;
    }
    const reserved = (meta.get('reservedThrough') as number | undefined) ?? 0;
    return new SqlKeyspaceLog(sql, replica, logId, head, compacted, rows, compactAfterEntries, reserved);
  }

  get keyspace(): string {
    return this.replica.keyspace;
  }

  get replicaId(): ReplicaId {
    return this.replica.id;
  }

  /**
   * Stores and applies a validated delta, unless the replica already holds every dot it
   * speaks for (a resent change). Returns the position that holds it. The row is written
   * synchronously; workerd's output gate holds every message sent after it until it is durable.
   */
  commit(delta: Delta<MapStore>, bytes: Uint8Array, origin: ReplicaId | undefined): number {
    this.flush();
    if (this.replica.contextOf().includes(delta.context)) return this.headPosition;
    const e = this.append(delta, bytes, origin);
    this.write(e);
    this.afterWrite();
    return e.position;
  }

  /**
   * Applies a validated delta in memory at the next position without writing it, so the
   * caller may relay it before the turn's first write; `flush` writes it later in the same
   * turn, and only then may its author be acknowledged. Undefined when the next position is
   * not inside a durable reservation (use `commit`). A resent change stages nothing and
   * returns the head.
   */
  stage(delta: Delta<MapStore>, bytes: Uint8Array, origin: ReplicaId | undefined): number | undefined {
    if (this.nextPosition() > this.confirmed) return undefined;
    if (this.replica.contextOf().includes(delta.context)) return this.headPosition;
    const e = this.append(delta, bytes, origin);
    this.staged.push(e);
    return e.position;
  }

  /** Writes the staged entries' rows (and a new reservation when the current one runs low). */
  flush(): void {
    if (this.staged.length === 0) return;
    const staged = this.staged;
    this.staged = [];
    for (const e of staged) this.write(e);
    this.afterWrite();
  }

  /**
   * A reservation written since the last call, which the owner confirms once it is durable
   * (`ctx.storage.sync()`); undefined when there is none.
   */
  takeReservation(): number | undefined {
    const r = this.unconfirmed;
    this.unconfirmed = undefined;
    return r;
  }

  /** Reservations up to `through` are durable: `stage` may use positions up to it. */
  confirm(through: number): void {
    if (through > this.confirmed) this.confirmed = through;
  }

  /** The highest position whose row is written: its change may be acknowledged. */
  get writtenThrough(): number {
    return this.written;
  }

  private nextPosition(): number {
    return Math.max(this.headPosition, this.numberAfter) + 1;
  }

  private append(delta: Delta<MapStore>, bytes: Uint8Array, origin: ReplicaId | undefined): LogEntry {
    const e: LogEntry = { position: this.nextPosition(), bytes, origin };
    this.replica.applyDelta(delta);
    this.headPosition = e.position;
    this.recent.push(e);
    if (this.recent.length > RECENT_ENTRIES * 2) this.recent = this.recent.slice(-RECENT_ENTRIES);
    return e;
  }

  private write(e: LogEntry): void {
    this.sql.exec('INSERT INTO np_log (position, bytes, origin) VALUES (?, ?, ?)', e.position, e.bytes, e.origin ?? null);
    this.written = e.position;
    this.rowsSinceSnapshot++;
  }

  /** After rows were written in this turn: extend the reservation early, compact when due. */
  private afterWrite(): void {
    // Reserved ahead while half the current block is left, so staging rarely waits for one.
    if (this.headPosition + RESERVED_POSITIONS / 2 > this.reserved) {
      this.reserved = this.headPosition + RESERVED_POSITIONS;
      writeMeta(this.sql, 'reservedThrough', this.reserved);
      this.unconfirmed = this.reserved;
    }
    if (this.rowsSinceSnapshot >= this.compactAfterEntries) this.compact();
  }

  /** Writes a snapshot at the head and drops the log rows it covers. */
  compact(): void {
    this.flush(); // its rows first (a flush may compact by itself: then nothing is left to do)
    if (this.compacted === this.headPosition) return;
    const bytes = this.replica.encode();
    writeMeta(this.sql, 'snapshot', bytes);
    writeMeta(this.sql, 'snapshotPosition', this.headPosition);
    this.sql.exec('DELETE FROM np_log WHERE position <= ?', this.headPosition);
    this.compacted = this.headPosition;
    this.rowsSinceSnapshot = 0;
    this.snap = { position: this.headPosition, bytes };
  }

  head(): number {
    return this.headPosition;
  }

  compactedThrough(): number {
    return this.compacted;
  }

  read(position: number, maxBytes: number, maxEntries: number): readonly LogEntry[] {
    const out: LogEntry[] = [];
    let total = 0;
    const first = this.recent[0];
    if (first !== undefined && position >= first.position - 1) {
      // Positions in `recent` are consecutive: the entry after `position` is at this index.
      for (let i = position + 1 - first.position; i < this.recent.length && out.length < maxEntries; i++) {
        const e = this.recent[i]!;
        if (out.length > 0 && total + e.bytes.length > maxBytes) break;
        out.push(e);
        total += e.bytes.length;
      }
      return out;
    }
    const rows = this.sql.exec<{ position: number; bytes: ArrayBuffer; origin: number | null }>(
      'SELECT position, bytes, origin FROM np_log WHERE position > ? ORDER BY position LIMIT ?',
      position,
      maxEntries,
    );
    for (const row of rows) {
      const bytes = bytesOf(row.bytes);
      if (out.length > 0 && total + bytes.length > maxBytes) break;
      out.push({ position: row.position, bytes, origin: row.origin === null ? undefined : (row.origin as ReplicaId) });
      total += bytes.length;
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
}

export function readMeta(sql: SqlStorage): Map<string, SqlValue> {
  sql.exec('CREATE TABLE IF NOT EXISTS np_meta (k TEXT PRIMARY KEY, v)');
  const out = new Map<string, SqlValue>();
  for (const row of sql.exec<{ k: string; v: SqlValue }>('SELECT k, v FROM np_meta')) out.set(row.k, row.v);
  return out;
}

export function writeMeta(sql: SqlStorage, k: string, v: SqlValue | Uint8Array): void {
  sql.exec('INSERT INTO np_meta (k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v', k, v);
}
