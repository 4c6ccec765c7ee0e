import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalNode } from '../../../server/src/node/local-node.ts';
import { WriteAheadLog } from '../../../server/src/wal/wal.ts';
import { LmdbKvStorage } from '../../../server/src/storage/lmdb-storage.ts';
import { CachedKvStorage } from '../../../server/src/storage/cached-storage.ts';
import { readSnapshotFile, snapshotFileName, SnapshotFileError } from '../../../server/src/storage/snapshot-file.ts';
import { NodeTimeoutError } from '../../../server/src/node/errors.ts';
import { MemoryKvStorage } from '../../../core/src/testing/memory-kv-storage.ts';
import type { KvChange } from '../../../core/src/kv/commands.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'npx-node-'));
  dirs.push(d);
  return d;
}

async function openNode(root: string, snapshotEveryEntries = 10) {
  const lmdb = new LmdbKvStorage({ path: join(root, 'state') });
  const wal = await WriteAheadLog.open(join(root, 'wal'), { segmentBytes: 600 });
  const node = await LocalNode.open({ storage: new CachedKvStorage(lmdb, { capacity: 16 }), wal, snapshotDir: root, snapshotEveryEntries }).catch(
    async (e: unknown) => {
      await wal.close();
      await lmdb.close();
      throw e;
    },
  );
  return {
    node,
    wal,
    close: async () => {
      await node.close();
      await lmdb.close();
    },
  };
}

const ks = 'default';
const T = { timeoutMs: 5000 };

describe('LocalNode', () => {
  it('applies concurrent proposals in log order with group commit', async () => {
    const root = tempDir();
    const { node, wal, close } = await openNode(root, 1_000_000);
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => node.propose({ type: 'counter', ks, key: 'n', by: 1 }, T)));
    expect(results.map((r) => (r.status === 'ok' ? r.value : -1))).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(wal.stats.syncs).toBeLessThan(50);
    await close();
  });

  it('snapshots, compacts the WAL, and rebuilds lost storage from snapshot + WAL', async () => {
    const root = tempDir();
    const first = await openNode(root);
    for (let i = 1; i <= 45; i++) await first.node.propose({ type: 'put', ks, key: `k${i % 7}`, value: i }, T);
    await first.node.snapshotSettled();
    // Which index the last snapshot lands on depends on timing: while one is being written,
    // applies do not start another. What must hold: one snapshot file, the one the WAL
    // points at, taken within the last two snapshot intervals.
    const snaps = readdirSync(root).filter((n) => n.endsWith('.snap'));
    const at = first.wal.snapshot.index;
    expect(snaps).toEqual([snapshotFileName(at)]);
    expect(at).toBeGreaterThan(45 - 2 * 10);
    expect(at).toBeLessThanOrEqual(45);
    expect(first.wal.stats.segmentsDeleted).toBeGreaterThan(0);
    await first.close();
    // Storage lost entirely: the node must come back from the snapshot and the WAL tail.
    rmSync(join(root, 'state'), { recursive: true, force: true });
    const second = await openNode(root);
    expect(second.node.appliedIndex).toBe(45);
    for (let k = 0; k < 7; k++) {
      const e = await second.node.read(ks, `k${k}`, { consistency: 'strong', timeoutMs: 100 });
      const last = [...Array(45).keys()].map((i) => i + 1).filter((i) => i % 7 === k).pop()!;
      expect(e).toEqual({ type: 'register', value: last, version: last });
    }
    await second.close();
    // Storage kept: reopening applies nothing twice.
    const third = await openNode(root);
    expect(third.node.appliedIndex).toBe(45);
    expect((await third.node.propose({ type: 'put', ks, key: 'x', value: 1 }, T)).status).toBe('ok');
    await third.close();
  });

  it('a corrupt snapshot file is a typed error, not a silent empty state', async () => {
    const root = tempDir();
    const first = await openNode(root);
    for (let i = 1; i <= 12; i++) await first.node.propose({ type: 'put', ks, key: 'k', value: i }, T);
    await first.node.snapshotSettled();
    await first.close();
    const path = join(root, snapshotFileName(10));
    const bytes = readFileSync(path);
    bytes[bytes.length - 1] ^= 0xff;
    writeFileSync(path, bytes);
    expect(() => readSnapshotFile(root, 10)).toThrow(SnapshotFileError);
    rmSync(join(root, 'state'), { recursive: true, force: true });
    await expect(openNode(root)).rejects.toThrow(/snapshot/);
  });

  it('refuses to start when the WAL ends before what storage has applied (WAL lost)', async () => {
    const root = tempDir();
    const first = await openNode(root, 1_000_000);
    for (let i = 1; i <= 5; i++) await first.node.propose({ type: 'put', ks, key: 'k', value: i }, T);
    await first.close();
    rmSync(join(root, 'wal'), { recursive: true, force: true });
    await expect(openNode(root)).rejects.toThrow(/WAL ends at 0 but the state machine has applied 5/);
  });

  it('watch replays from fromVersion and then streams live changes', async () => {
    const node = await LocalNode.open({ storage: new MemoryKvStorage(), feedCapacity: 4 });
    for (let i = 1; i <= 6; i++) await node.propose({ type: 'put', ks, key: `a${i}`, value: i }, T);
    const seen: KvChange[] = [];
    const sub = node.watch(ks, 'a', 4, (c) => seen.push(c));
    expect(seen.map((c) => c.version)).toEqual([4, 5, 6]);
    // Older than the ring (capacity 4): current values of keys written since, from state.
    const old: KvChange[] = [];
    node.watch(ks, 'a', 1, (c) => old.push(c)).close();
    expect(old.map((c) => c.key)).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'a6']);
    await node.propose({ type: 'delete', ks, key: 'a1' }, T);
    await node.propose({ type: 'put', ks, key: 'b', value: 0 }, T);
    expect(seen.map((c) => [c.key, c.deleted])).toEqual([
      ['a4', false],
      ['a5', false],
      ['a6', false],
      ['a1', true],
    ]);
    sub.close();
  });

  it('a causal read past the applied index times out with a typed error', async () => {
    const node = await LocalNode.open({ storage: new MemoryKvStorage() });
    await expect(node.read(ks, 'k', { consistency: 'causal', minVersion: 3, timeoutMs: 20 })).rejects.toBeInstanceOf(NodeTimeoutError);
  });
});
