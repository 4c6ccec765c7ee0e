// The WAL against an in-memory model: random appends (with conflicting suffixes),
// truncations, hard states, snapshots, compactions and reopens must always recover exactly
// the model's state; and a last segment cut at any byte still opens, as a valid log.
import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, readdirSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WriteAheadLog } from '../../server/src/wal/wal.ts';
import type { HardState, SnapshotMeta, WalEntry } from '../../server/src/wal/record.ts';

const seed = Number(process.env.FC_SEED ?? 31_337);
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

type Op =
  | { kind: 'append'; back: number; count: number; term: number }
  | { kind: 'truncate'; back: number }
  | { kind: 'hard'; term: number; commit: number }
  | { kind: 'snapshot'; ahead: number }
  | { kind: 'compact' }
  | { kind: 'reopen' };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('append' as const), back: fc.nat(3), count: fc.integer({ min: 1, max: 6 }), term: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), back: fc.nat(4) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('hard' as const), term: fc.nat(9), commit: fc.nat(50) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('snapshot' as const), ahead: fc.integer({ min: -3, max: 2 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'compact' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
);

class Model {
  hard: HardState = { term: 0, vote: '', commit: 0 };
  snap: SnapshotMeta = { index: 0, term: 0, data: new Uint8Array(0) };
  log: WalEntry[] = [];
  get last(): number {
    return this.snap.index + this.log.length;
  }
  term(i: number): number | undefined {
    return i === this.snap.index ? this.snap.term : this.log[i - this.snap.index - 1]?.term;
  }
}

function check(wal: WriteAheadLog, m: Model): void {
  expect(wal.hardState).toEqual(m.hard);
  expect(wal.snapshot.index).toBe(m.snap.index);
  expect(wal.snapshot.term).toBe(m.snap.term);
  expect(wal.lastIndex).toBe(m.last);
  expect(wal.entries(0, m.last + 1).map((e) => [e.index, e.term, e.data[0]])).toEqual(m.log.map((e) => [e.index, e.term, e.data[0]]));
}

describe('WAL against a model', () => {
  it('recovers exactly the model state after any sequence of operations', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
        const dir = mkdtempSync(join(tmpdir(), 'npx-walprop-'));
        dirs.push(dir);
        let wal = await WriteAheadLog.open(dir, { segmentBytes: 300 });
        const m = new Model();
        let stamp = 0;
        for (const o of ops) {
          switch (o.kind) {
            case 'append': {
              const first = Math.max(m.snap.index + 1, m.last + 1 - o.back);
              const entries: WalEntry[] = [];
              for (let i = 0; i < o.count; i++) entries.push({ index: first + i, term: o.term, type: 0, data: new Uint8Array([stamp++ & 0xff, 1, 2, 3]) });
              wal.append(entries);
              m.log.length = first - m.snap.index - 1;
              m.log.push(...entries);
              break;
            }
            case 'truncate': {
              const from = Math.max(m.snap.index + 1, m.last + 1 - o.back);
              wal.truncateSuffix(from);
              if (from <= m.last) m.log.length = from - m.snap.index - 1;
              break;
            }
            case 'hard':
              m.hard = { term: o.term, vote: o.term % 2 === 0 ? '' : `n${o.term}`, commit: o.commit };
              wal.setHardState(m.hard);
              break;
            case 'snapshot': {
              const index = m.last + o.ahead;
              if (index <= m.snap.index) break;
              const meta = { index, term: m.term(index) ?? 9, data: new Uint8Array([index & 0xff]) };
              wal.setSnapshot(meta);
              m.log = index < m.last && m.term(index) === meta.term ? m.log.slice(index - m.snap.index) : [];
              m.snap = meta;
              break;
            }
            case 'compact':
              await wal.compact(m.snap.index + 1);
              break;
            case 'reopen':
              await wal.close();
              wal = await WriteAheadLog.open(dir, { segmentBytes: 300 });
              break;
          }
          check(wal, m);
        }
        await wal.close();
        const again = await WriteAheadLog.open(dir, { segmentBytes: 300 });
        check(again, m);
        await again.close();
      }),
      { seed, numRuns: 60 },
    );
  });

  it('a last segment cut at any byte opens as a valid, appendable log', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 30 }), fc.double({ min: 0, max: 1, noNaN: true }), async (n, cutAt) => {
        const dir = mkdtempSync(join(tmpdir(), 'npx-walcut-'));
        dirs.push(dir);
        const wal = await WriteAheadLog.open(dir, { segmentBytes: 400 });
        for (let i = 1; i <= n; i++) {
          wal.append([{ index: i, term: 1, type: 0, data: new Uint8Array(i) }]);
          if (i % 4 === 0) await wal.sync();
        }
        await wal.close();
        const names = readdirSync(dir).sort();
        const last = join(dir, names[names.length - 1]!);
        truncateSync(last, Math.floor(statSync(last).size * cutAt));
        const reopened = await WriteAheadLog.open(dir, { segmentBytes: 400 });
        const lastIndex = reopened.lastIndex;
        expect(lastIndex).toBeLessThanOrEqual(n);
        const entries = reopened.entries(1, lastIndex + 1);
        expect(entries.map((e) => e.index)).toEqual(Array.from({ length: lastIndex }, (_, i) => i + 1));
        for (const e of entries) expect(e.data.length).toBe(e.index);
        reopened.append([{ index: lastIndex + 1, term: 2, type: 0, data: new Uint8Array([7]) }]);
        await reopened.close();
        const third = await WriteAheadLog.open(dir, { segmentBytes: 400 });
        expect(third.lastIndex).toBe(lastIndex + 1);
        expect(third.report.truncatedTail).toBeUndefined();
        await third.close();
      }),
      { seed, numRuns: 60 },
    );
  });
});
