// The key-value state machine applying committed puts over LMDB behind the ARC cache: one
// engine transaction per command (apply) against one per 64 commands (applyBatch, what the
// Raft driver and LocalNode do with a group of committed entries), and the batched apply
// over 100,000 keys, 5x the cache's capacity, so most writes evict (the ARC cache's
// replacement path; it cost 12-27 µs per insert before its lists were linked lists).
// `npx tsx bench/cluster/apply-bench.ts [-- --json]`; writes bench/results/apply.json.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { KvStateMachine, type IndexedCommand } from '../../core/src/kv/state-machine.ts';
import type { KvCommand } from '../../core/src/kv/commands.ts';
import { LmdbKvStorage } from '../../server/src/storage/lmdb-storage.ts';
import { CachedKvStorage } from '../../server/src/storage/cached-storage.ts';

const json = process.argv.includes('--json');
const N = 30_000;
const KEYS = 10_000;
const value = 'v'.repeat(100);
const cmd = (i: number, keys: number): KvCommand => ({ type: 'put', ks: 'default', key: `user:${(i * 7919) % keys}`, value, session: { clientId: `c${i % 64}`, seq: i } });

async function run(batch: number, keys = KEYS): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'npx-apply-'));
  const engine = new LmdbKvStorage({ path: dir });
  const sm = new KvStateMachine(new CachedKvStorage(engine, { capacity: 20_000 }));
  const t0 = performance.now();
  for (let i = 1; i <= N; i += batch) {
    const items: IndexedCommand[] = [];
    for (let j = i; j < i + batch && j <= N; j++) items.push({ command: cmd(j, keys), index: j });
    sm.applyBatch(items);
  }
  const perSec = Math.round(N / ((performance.now() - t0) / 1000));
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
  return perSec;
}

const result = {
  commands: N,
  keys: KEYS,
  valueBytes: value.length,
  applyPerSec: await run(1),
  applyBatch64PerSec: await run(64),
  applyBatch64Keys100kPerSec: await run(64, 100_000),
};
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/apply.json', JSON.stringify(result, null, 2) + '\n');
if (json) console.log(JSON.stringify(result));
else console.table(result);
