// Property: a CommittedKeyspaceSource created after the fact (a node that never streamed the
// keyspace, or restarted) serves every cursor it accepts exactly as a source that saw every
// commit does: the same positions, bytes and origins, page by page, whatever the history
// (apply batches of several commands, resent deltas that are skipped, tails folded into the
// base) and its byte bound. Seeded (FC_SEED to replay).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ReplicaId } from '../../core/src/clock/replica-id.ts';
import { Replica } from '../../core/src/doc/replica.ts';
import type { CrdtDeltaItem } from '../../core/src/kv/commands.ts';
import { KvStateMachine } from '../../core/src/kv/state-machine.ts';
import { fnv1a32 } from '../../core/src/sync/checksum.ts';
import type { LogEntry } from '../../core/src/sync/keyspace-source.ts';
import { MemoryKvStorage } from '../../core/src/testing/memory-kv-storage.ts';
import { CommittedKeyspaceSource } from '../../server/src/sync/committed-keyspace-source.ts';

const seed = Number(process.env.FC_SEED ?? 20261125);

/** One delta: its author (1-3), a value size, or a resend of an earlier delta. */
const delta = fc.record({ author: fc.integer({ min: 1, max: 3 }), size: fc.integer({ min: 1, max: 2000 }), resend: fc.boolean() });
/** Apply batches of commands of deltas. */
const history = fc.array(fc.array(fc.array(delta, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 30 });

/** Entries as short strings (deep equality over many KiB-sized byte arrays is slow). */
const digest = (entries: readonly LogEntry[]): string[] => entries.map((e) => `${e.position} ${e.origin} ${e.bytes.length} ${fnv1a32(e.bytes)}`);

function entriesAfter(source: CommittedKeyspaceSource, from: number, maxBytes: number, maxEntries: number): LogEntry[] {
  const out: LogEntry[] = [];
  let cursor = from;
  for (let i = 0; i < 10_000 && cursor < source.head(); i++) {
    const page = source.read(cursor, maxBytes, maxEntries);
    if (page.length === 0) throw new Error(`no entry after ${cursor} below head ${source.head()}`);
    out.push(...page);
    cursor = page[page.length - 1]!.position;
  }
  return out;
}

describe('stored sync log', () => {
  it('a source created afterwards serves what a source that saw every commit serves', () => {
    // How many runs folded the tail, and how many were cut short by the byte bound.
    let folded = 0;
    let bounded = 0;
    fc.assert(
      fc.property(history, fc.integer({ min: 1, max: 200_000 }), fc.integer({ min: 1, max: 4000 }), fc.integer({ min: 1, max: 8 }), (batches, bound, pageBytes, pageEntries) => {
        const sm = new KvStateMachine(new MemoryKvStorage());
        const live = new CommittedKeyspaceSource(sm, 'ks', Number.MAX_SAFE_INTEGER);
        sm.onCrdtApplied((a) => live.append(a.entries));
        const authors = [1, 2, 3].map((id) => {
          const r = new Replica({ replicaId: id as ReplicaId, keyspace: 'ks' });
          const out: Uint8Array[] = [];
          r.onLocalDelta((d) => out.push(r.encodeDelta(d)));
          return { r, out };
        });
        const sent: CrdtDeltaItem[] = [];
        let index = 0;
        let n = 0;
        for (const batch of batches) {
          const commands = batch.map((deltas) => {
            const items = deltas.map((d) => {
              if (d.resend && sent.length > 0) return sent[(n++ * 7919) % sent.length]!;
              const a = authors[d.author - 1]!;
              a.r.put(`k${n++ % 50}`, 'v'.repeat(d.size));
              const item = { origin: d.author, bytes: a.out.splice(0)[0]! };
              sent.push(item);
              return item;
            });
            return { index: ++index, command: { type: 'crdt' as const, ks: 'ks', deltas: items } };
          });
          sm.applyBatch(commands);
        }
        const fresh = new CommittedKeyspaceSource(sm, 'ks', bound);
        expect(fresh.head()).toBe(live.head());
        const start = fresh.compactedThrough();
        expect(start).toBeLessThanOrEqual(fresh.head());
        const all = entriesAfter(live, 0, 1 << 30, 1 << 20);
        const stored = sm.crdtLogStart('ks')!;
        if (stored > all[0]!.position) folded++;
        if (start > stored) bounded++;
        const cursors = [start, ...all.map((e) => e.position).filter((p) => p > start)];
        for (const cursor of cursors.slice(0, 12)) {
          expect(digest(entriesAfter(fresh, cursor, pageBytes, pageEntries))).toEqual(digest(all.filter((e) => e.position > cursor)));
        }
      }),
      { seed, numRuns: 100 },
    );
    expect(folded).toBeGreaterThan(5);
    expect(bounded).toBeGreaterThan(5);
  });
});
