// Resume by log on a node that streamed nothing of the keyspace before: a CommittedKeyspaceSource
// created after the deltas were committed (a node a client failed over to, or one that
// restarted) reads cursors older than its in-memory window from the state machine's stored
// tail records. It serves exactly what a source that saw every commit serves (positions,
// bytes, origins), and falls back to a snapshot only for a cursor behind a folded tail,
// behind its byte bound, or from another log.
import { describe, expect, it } from 'vitest';
import type { ReplicaId } from '../../../core/src/clock/replica-id.ts';
import { Replica } from '../../../core/src/doc/replica.ts';
import { MAX_CRDT_DELTAS } from '../../../core/src/kv/command-codec.ts';
import type { CrdtDeltaItem } from '../../../core/src/kv/commands.ts';
import { KvStateMachine } from '../../../core/src/kv/state-machine.ts';
import type { LogEntry } from '../../../core/src/sync/keyspace-source.ts';
import { SYNC_PROTOCOL_VERSION, type SyncMessage } from '../../../core/src/sync/messages.ts';
import { ServerSyncSession } from '../../../core/src/sync/server-session.ts';
import { MemoryKvStorage } from '../../../core/src/testing/memory-kv-storage.ts';
import { CommittedKeyspaceSource } from '../../../server/src/sync/committed-keyspace-source.ts';

const A = 7 as ReplicaId;
const B = 9 as ReplicaId;

/** A client replica whose every change is one encoded delta. */
function author(id: ReplicaId): { replica: Replica; take: () => Uint8Array[] } {
  const replica = new Replica({ replicaId: id, keyspace: 'ks' });
  const out: Uint8Array[] = [];
  replica.onLocalDelta((d) => out.push(replica.encodeDelta(d)));
  return { replica, take: () => out.splice(0) };
}

/** Commits 12 Raft entries of 1-3 deltas from two authors, some applied as one batch. */
function commitHistory(sm: KvStateMachine): void {
  const a = author(A);
  const b = author(B);
  let index = 0;
  for (let round = 0; round < 6; round++) {
    const batch = [];
    for (let j = 0; j < 2; j++) {
      const items: CrdtDeltaItem[] = [];
      for (let k = 0; k <= (round + j) % 3; k++) {
        const who = (round + j + k) % 2 === 0 ? a : b;
        who.replica.put(`k${round}-${j}-${k}`, `v${round}${j}${k}`);
        items.push({ origin: who === a ? A : B, bytes: who.take()[0]! });
      }
      batch.push({ index: ++index, command: { type: 'crdt' as const, ks: 'ks', deltas: items } });
    }
    sm.applyBatch(batch);
  }
}

/** Every entry after `from`, one read of at most `maxBytes` at a time (bounded loop). */
function readAll(source: CommittedKeyspaceSource, from: number, maxBytes: number, maxEntries: number): LogEntry[] {
  const out: LogEntry[] = [];
  let cursor = from;
  for (let i = 0; i < 1000 && cursor < source.head(); i++) {
    const page = source.read(cursor, maxBytes, maxEntries);
    expect(page.length).toBeGreaterThan(0);
    expect(page.length).toBeLessThanOrEqual(maxEntries);
    out.push(...page);
    cursor = page[page.length - 1]!.position;
  }
  return out;
}

/** What a server session over `source` sends a client of replica `peer` resuming at the cursor. */
function resume(source: CommittedKeyspaceSource, peer: ReplicaId, logId: string, position: number): SyncMessage[] {
  const s = new ServerSyncSession({ channel: 1, source });
  s.receive({ type: 'hello', channel: 1, version: SYNC_PROTOCOL_VERSION, keyspace: 'ks', replica: peer, token: '', resume: { mode: 'cursor', logId, position }, transfer: undefined });
  return s.takeMessages();
}

describe('CommittedKeyspaceSource over stored tail records', () => {
  it('serves a cursor from before it was created by log, the same entries as a source that saw every commit', () => {
    const storage = new MemoryKvStorage();
    const sm = new KvStateMachine(storage);
    const live = new CommittedKeyspaceSource(sm, 'ks');
    sm.onCrdtApplied((a) => live.append(a.entries));
    commitHistory(sm);
    const fresh = new CommittedKeyspaceSource(sm, 'ks');
    // Before the change the new source had nothing before its creation (compacted = head).
    // The first stored batch (indexes 1 and 2, the second with 2 deltas) made the base record.
    const first = 2 * MAX_CRDT_DELTAS + 1;
    expect(fresh.compactedThrough()).toBe(first);
    expect(fresh.head()).toBe(live.head());
    const want = readAll(live, first, 1 << 20, 1000);
    expect(want.length).toBeGreaterThan(15);
    expect(readAll(fresh, first, 1 << 20, 1000)).toEqual(want);
    // Paged: one entry per read (the byte bound), or 3 per read, from every cursor.
    expect(readAll(fresh, first, 1, 1000)).toEqual(want);
    for (const e of want) expect(readAll(fresh, e.position, 1 << 20, 3)).toEqual(want.filter((w) => w.position > e.position));
    expect(new Set(want.map((e) => e.origin))).toEqual(new Set([A, B]));

    // A restarted node: a new state machine over the same storage.
    const restarted = new CommittedKeyspaceSource(new KvStateMachine(storage), 'ks');
    expect(restarted.compactedThrough()).toBe(first);
    expect(readAll(restarted, first, 200, 5)).toEqual(want);

    // A session resumed there gets log entries, not a snapshot, without A's own deltas.
    const cursor = want[4]!.position;
    const sent = resume(fresh, A, fresh.logId, cursor);
    expect(sent.find((m) => m.type === 'welcome')).toMatchObject({ mode: 'log', logId: fresh.logId, head: fresh.head() });
    expect(sent.filter((m) => m.type === 'chunk')).toHaveLength(0);
    const deltas = sent.flatMap((m) => (m.type === 'delta' ? [{ position: m.position, bytes: m.bytes }] : []));
    expect(deltas).toEqual(want.filter((e) => e.position > cursor && e.origin !== A).map((e) => ({ position: e.position, bytes: e.bytes })));
    expect(sent.at(-1)).toMatchObject({ type: 'progress', position: fresh.head(), caughtUp: true });
  });

  it('sends a snapshot to a cursor behind a folded tail, behind its byte bound, or of another log', () => {
    const sm = new KvStateMachine(new MemoryKvStorage());
    const a = author(A);
    // 80 deltas of ~1 KiB, one Raft entry each: the tail outgrows 64 KiB and is folded.
    for (let i = 1; i <= 80; i++) {
      a.replica.put(`big${i}`, 'x'.repeat(1000));
      sm.apply({ type: 'crdt', ks: 'ks', deltas: [{ origin: A, bytes: a.take()[0]! }] }, i);
    }
    const source = new CommittedKeyspaceSource(sm, 'ks');
    const start = source.compactedThrough();
    expect(start).toBeGreaterThan(MAX_CRDT_DELTAS); // folded: the oldest positions are gone
    expect(start).toBeLessThan(source.head()); // but a tail is stored after the fold
    const folded = MAX_CRDT_DELTAS * 2; // index 2: behind the fold
    expect(resume(source, B, source.logId, folded).find((m) => m.type === 'welcome')).toMatchObject({ mode: 'snapshot' });
    expect(resume(source, B, source.logId, start).find((m) => m.type === 'welcome')).toMatchObject({ mode: 'log' });
    expect(resume(source, B, 'ks@1.00000000', start).find((m) => m.type === 'welcome')).toMatchObject({ mode: 'snapshot' });

    // Byte bound: only the newest stored records that fit in 3 KiB are served from storage.
    const bounded = new CommittedKeyspaceSource(sm, 'ks', 3 * 1024);
    const boundedStart = bounded.compactedThrough();
    expect(boundedStart).toBeGreaterThan(start);
    expect(bounded.head() - boundedStart).toBeLessThanOrEqual(3 * MAX_CRDT_DELTAS);
    expect(resume(bounded, B, bounded.logId, start).find((m) => m.type === 'welcome')).toMatchObject({ mode: 'snapshot' });
    expect(readAll(bounded, boundedStart, 1 << 20, 100).map((e) => e.position)).toEqual(readAll(source, boundedStart, 1 << 20, 100).map((e) => e.position));
  });
});
