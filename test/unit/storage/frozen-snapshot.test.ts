// A snapshot encoded a slice at a time over the engine's point-in-time view is the state at
// the moment it began, whatever batches are written between its slices (what lets the Raft
// snapshotter encode without stalling the node), and its bytes are encodeSnapshot's.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeEntry, encodeEntry } from '../../../core/src/kv/record-codec.ts';
import { decodeSnapshot, encodeSnapshot, SnapshotEncoder } from '../../../core/src/kv/snapshot.ts';
import { frozenEntries, type KvStorage } from '../../../core/src/kv/storage.ts';
import { MemoryKvStorage } from '../../../core/src/testing/memory-kv-storage.ts';
import { CachedKvStorage } from '../../../server/src/storage/cached-storage.ts';
import { LmdbKvStorage } from '../../../server/src/storage/lmdb-storage.ts';

const bytes = (s: string) => encodeEntry({ type: 'register', value: s, version: 1 });
const dirs: string[] = [];
const engines: LmdbKvStorage[] = [];

afterEach(async () => {
  for (const e of engines.splice(0)) await e.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function lmdb(): LmdbKvStorage {
  const path = mkdtempSync(join(tmpdir(), 'npx-frozen-'));
  dirs.push(path);
  const s = new LmdbKvStorage({ path });
  engines.push(s);
  return s;
}

function fill(s: KvStorage, n: number): void {
  const ops = [];
  for (let i = 0; i < n; i++) ops.push({ type: 'put' as const, key: `dks\u0000k${String(i).padStart(4, '0')}`, value: bytes(`v${i}`) });
  s.batch(ops);
}

describe('snapshot over a frozen view', () => {
  for (const [name, open] of [
    ['lmdb', () => lmdb()],
    ['lmdb behind the ARC cache', () => new CachedKvStorage(lmdb(), { capacity: 8 })],
    ['memory (copied view)', () => new MemoryKvStorage()],
  ] as const) {
    it(`${name}: writes between slices do not reach the snapshot`, () => {
      const s: KvStorage = open();
      fill(s, 500);
      const expected = encodeSnapshot(s, 500);
      const encoder = new SnapshotEncoder(frozenEntries(s), 500);
      let turns = 0;
      for (let i = 0; !encoder.step(37); i++) {
        // Bounded: 500 records at 37 a slice.
        expect(i).toBeLessThan(20);
        turns++;
        s.batch([
          { type: 'put', key: `dks\u0000k${String(i).padStart(4, '0')}`, value: bytes('changed') },
          { type: 'delete', key: `dks\u0000k${String(499 - i).padStart(4, '0')}` },
          { type: 'put', key: `dks\u0000new${i}`, value: bytes('new') },
        ]);
      }
      expect(turns).toBeGreaterThan(5);
      const got = encoder.finish();
      expect(got).toEqual(expected);
      const snap = decodeSnapshot(got);
      expect(snap.records).toHaveLength(500);
      expect(decodeEntry(snap.records[0]!.value).value).toBe('v0');
      // The live state did move on.
      expect(s.get('dks\u0000k0000')).toEqual(bytes('changed'));
    });
  }

  it('cancel() releases the view and finish() then refuses', () => {
    const s = lmdb();
    fill(s, 50);
    const encoder = new SnapshotEncoder(frozenEntries(s), 50);
    encoder.step(10);
    encoder.cancel();
    expect(encoder.cancelled).toBe(true);
    expect(() => encoder.finish()).toThrow();
    // The engine still takes writes and reads after the view is gone.
    fill(s, 60);
    expect(s.get('dks\u0000k0059')).toEqual(bytes('v59'));
  });
});
