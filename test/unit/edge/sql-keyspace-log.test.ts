// The edge's keyspace log compacts by rows written since the snapshot, not by positions:
// positions skip up to RESERVED_POSITIONS at every restart, and a quiet keyspace whose
// object wakes often must not snapshot after a handful of changes.
import { describe, expect, it } from 'vitest';
import type { ReplicaId } from '../../../core/src/clock/replica-id.ts';
import { Replica } from '../../../core/src/doc/replica.ts';
import { DEFAULT_COMPACT_AFTER_ENTRIES, RESERVED_POSITIONS, SqlKeyspaceLog } from '../../../edge/src/sql-keyspace-log.ts';
import { FakeSqlStorage } from '../../support/fake-sql-storage.ts';

const fresh = () => ({ replicaId: 77 as ReplicaId, logId: 'edge-test' });
const author = new Replica({ replicaId: 5 as ReplicaId });

/** One restart of the object: reopen the log, confirm its reservation, accept one change. */
function restartAndWrite(sql: FakeSqlStorage, i: number, compactAfter?: number): SqlKeyspaceLog {
  const log = SqlKeyspaceLog.open(sql, 'ks', fresh, compactAfter);
  const delta = author.put(`k${i}`, i);
  log.commit(delta, author.encodeDelta(delta), author.id);
  return log;
}

describe('SqlKeyspaceLog compaction', () => {
  it('many restarts with one change each do not compact: positions skip, rows do not', () => {
    const sql = new FakeSqlStorage();
    const restarts = 2 * Math.ceil(DEFAULT_COMPACT_AFTER_ENTRIES / RESERVED_POSITIONS);
    let log: SqlKeyspaceLog | undefined;
    for (let i = 1; i <= restarts; i++) log = restartAndWrite(sql, i);
    // Positions ran far past the threshold...
    expect(log!.head()).toBeGreaterThan(DEFAULT_COMPACT_AFTER_ENTRIES);
    // ...but only `restarts` rows exist, so no snapshot was taken.
    expect(log!.compactedThrough()).toBe(0);
    expect(sql.log.size).toBe(restarts);
    expect(sql.meta.has('snapshot')).toBe(false);
    const reopened = SqlKeyspaceLog.open(sql, 'ks', fresh);
    for (let i = 1; i <= restarts; i++) expect(reopened.replica.get(`k${i}`)).toBe(i);
  });

  it('compacts once the rows after the snapshot reach the threshold, across restarts', () => {
    const sql = new FakeSqlStorage();
    const threshold = 5;
    let log: SqlKeyspaceLog | undefined;
    for (let i = 1; i < threshold; i++) log = restartAndWrite(sql, i, threshold);
    expect(log!.compactedThrough()).toBe(0);
    log = restartAndWrite(sql, threshold, threshold);
    expect(log.compactedThrough()).toBe(log.head());
    expect(sql.log.size).toBe(0);
    // The count starts over after a snapshot, and survives a reopen.
    for (let i = threshold + 1; i < 2 * threshold; i++) log = restartAndWrite(sql, i, threshold);
    const compacted = log.compactedThrough();
    expect(sql.log.size).toBe(threshold - 1);
    log = restartAndWrite(sql, 2 * threshold, threshold);
    expect(log.compactedThrough()).toBeGreaterThan(compacted);
    const reopened = SqlKeyspaceLog.open(sql, 'ks', fresh);
    for (let i = 1; i <= 2 * threshold; i++) expect(reopened.replica.get(`k${i}`)).toBe(i);
  });
});
