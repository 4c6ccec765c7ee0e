// An in-memory stand-in for a Durable Object's SqlStorage that understands exactly the
// statements edge/src/sql-keyspace-log.ts issues, so its bookkeeping (positions,
// reservations, compaction) can be tested in Node in milliseconds. Any other statement
// throws: a new query in the log must be added here on purpose. The real SQLite path is
// covered by the workerd tests in test/integration/edge.
import type { SqlCursor, SqlStorage, SqlValue } from '../../edge/src/cf-types.ts';

interface LogRow {
  position: number;
  bytes: ArrayBuffer;
  origin: number | null;
}

export class FakeSqlStorage implements SqlStorage {
  readonly meta = new Map<string, SqlValue>();
  readonly log = new Map<number, LogRow>();

  exec<T = Record<string, SqlValue>>(query: string, ...b: unknown[]): SqlCursor<T> {
    const q = query.replace(/\s+/g, ' ').trim();
    if (q.startsWith('CREATE TABLE IF NOT EXISTS')) return cursor<T>([], 0);
    if (q === 'SELECT k, v FROM np_meta') return cursor<T>([...this.meta].map(([k, v]) => ({ k, v })), 0);
    if (q.startsWith('INSERT INTO np_meta (k, v) VALUES (?, ?) ON CONFLICT(k)')) {
      this.meta.set(b[0] as string, stored(b[1]));
      return cursor<T>([], 1);
    }
    if (q === 'INSERT INTO np_log (position, bytes, origin) VALUES (?, ?, ?)') {
      const position = b[0] as number;
      if (this.log.has(position)) throw new Error(`UNIQUE constraint failed: np_log.position ${position}`);
      this.log.set(position, { position, bytes: stored(b[1]) as ArrayBuffer, origin: (b[2] as number | null) ?? null });
      return cursor<T>([], 1);
    }
    if (q === 'DELETE FROM np_log WHERE position <= ?') {
      let n = 0;
      for (const p of [...this.log.keys()]) if (p <= (b[0] as number)) n += this.log.delete(p) ? 1 : 0;
      return cursor<T>([], n);
    }
    const select = /^SELECT position, bytes(, origin)? FROM np_log WHERE position > \? ORDER BY position( LIMIT \?)?$/.exec(q);
    if (select !== null) {
      const rows = [...this.log.values()].filter((r) => r.position > (b[0] as number)).sort((x, y) => x.position - y.position);
      return cursor<T>(select[2] === undefined ? rows : rows.slice(0, b[1] as number), 0);
    }
    throw new Error(`FakeSqlStorage does not know: ${q}`);
  }
}

function stored(v: unknown): SqlValue {
  // SQLite hands blobs back as ArrayBuffers of their own.
  if (ArrayBuffer.isView(v)) return v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength) as ArrayBuffer;
  return v as SqlValue;
}

function cursor<T>(rows: readonly unknown[], rowsWritten: number): SqlCursor<T> {
  const list = rows as T[];
  return {
    [Symbol.iterator]: () => list[Symbol.iterator](),
    toArray: () => [...list],
    one: () => {
      if (list.length !== 1) throw new Error(`expected one row, got ${list.length}`);
      return list[0]!;
    },
    rowsWritten,
  };
}
