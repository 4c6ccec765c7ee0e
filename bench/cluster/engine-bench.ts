// LMDB (`lmdb`) against LevelDB (`classic-level`) for the origin state machine's workload:
// every committed command is one small atomic batch (the key's entry + the applied index),
// reads are point gets of hot keys, watch/snapshots scan prefixes. Durability comes from the
// WAL, so neither engine fsyncs per batch (LMDB noSync, LevelDB sync: false).
// `npx tsx bench/cluster/engine-bench.ts [-- --json]`; writes bench/results/engine.json.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { open as openLmdb } from 'lmdb';
import { ClassicLevel } from 'classic-level';

const json = process.argv.includes('--json');
const KEYS = 50_000;
const APPLIES = 20_000;
const READS = 100_000;
const SCANS = 2_000;
const SCAN_LEN = 100;
const value = new Uint8Array(200).fill(42);
const meta = new Uint8Array(8).fill(1);

/** Deterministic LCG so both engines see the same key order. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
const key = (i: number) => `ddefault\u0000user:${i.toString().padStart(6, '0')}`;

interface EngineResult {
  bulkLoadPerSec: number;
  applyBatchesPerSec: number;
  pointReadsPerSec: number;
  prefixScansPerSec: number;
}

function rate(n: number, t0: number): number {
  return Math.round(n / ((performance.now() - t0) / 1000));
}

async function benchLmdb(dir: string): Promise<EngineResult> {
  const db = openLmdb<Uint8Array, string>({ path: dir, encoding: 'binary', noSync: true });
  let t0 = performance.now();
  for (let b = 0; b < KEYS; b += 1000) {
    db.transactionSync(() => {
      for (let i = b; i < b + 1000; i++) db.putSync(key(i), value);
    });
  }
  const bulkLoadPerSec = rate(KEYS, t0);
  const r = rng(1);
  t0 = performance.now();
  for (let i = 0; i < APPLIES; i++) {
    const k = key(Math.floor(r() * KEYS));
    db.transactionSync(() => {
      db.putSync(k, value);
      db.putSync('m:applied', meta);
    });
  }
  const applyBatchesPerSec = rate(APPLIES, t0);
  t0 = performance.now();
  let found = 0;
  for (let i = 0; i < READS; i++) if (db.get(key(Math.floor(r() * KEYS))) !== undefined) found++;
  const pointReadsPerSec = rate(READS, t0);
  if (found !== READS) throw new Error('lmdb lost keys');
  t0 = performance.now();
  for (let i = 0; i < SCANS; i++) {
    const start = Math.floor(r() * (KEYS - SCAN_LEN));
    let n = 0;
    for (const _ of db.getRange({ start: key(start), end: key(start + SCAN_LEN) })) n++;
    if (n !== SCAN_LEN) throw new Error('lmdb scan short');
  }
  const prefixScansPerSec = rate(SCANS, t0);
  await db.close();
  return { bulkLoadPerSec, applyBatchesPerSec, pointReadsPerSec, prefixScansPerSec };
}

async function benchLevel(dir: string): Promise<EngineResult & { asyncPointReadsPerSec: number }> {
  const db = new ClassicLevel<string, Uint8Array>(dir, { valueEncoding: 'view' });
  await db.open();
  let t0 = performance.now();
  for (let b = 0; b < KEYS; b += 1000) {
    const ops = [];
    for (let i = b; i < b + 1000; i++) ops.push({ type: 'put' as const, key: key(i), value });
    await db.batch(ops);
  }
  const bulkLoadPerSec = rate(KEYS, t0);
  const r = rng(1);
  t0 = performance.now();
  for (let i = 0; i < APPLIES; i++) {
    const k = key(Math.floor(r() * KEYS));
    await db.batch([
      { type: 'put', key: k, value },
      { type: 'put', key: 'm:applied', value: meta },
    ]);
  }
  const applyBatchesPerSec = rate(APPLIES, t0);
  t0 = performance.now();
  let found = 0;
  for (let i = 0; i < READS; i++) if (db.getSync(key(Math.floor(r() * KEYS))) !== undefined) found++;
  const pointReadsPerSec = rate(READS, t0);
  if (found !== READS) throw new Error('level lost keys');
  t0 = performance.now();
  const asyncReads = READS / 5;
  for (let i = 0; i < asyncReads; i++) await db.get(key(Math.floor(r() * KEYS)));
  const asyncPointReadsPerSec = rate(asyncReads, t0);
  t0 = performance.now();
  for (let i = 0; i < SCANS; i++) {
    const start = Math.floor(r() * (KEYS - SCAN_LEN));
    let n = 0;
    for await (const _ of db.iterator({ gte: key(start), lt: key(start + SCAN_LEN) })) n++;
    if (n !== SCAN_LEN) throw new Error('level scan short');
  }
  const prefixScansPerSec = rate(SCANS, t0);
  await db.close();
  return { bulkLoadPerSec, applyBatchesPerSec, pointReadsPerSec, asyncPointReadsPerSec, prefixScansPerSec };
}

const root = mkdtempSync(join(tmpdir(), 'npx-engine-'));
try {
  const lmdb = await benchLmdb(join(root, 'lmdb'));
  const level = await benchLevel(join(root, 'level'));
  const result = { keys: KEYS, valueBytes: value.length, lmdb, level };
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/engine.json', JSON.stringify(result, null, 2) + '\n');
  if (json) console.log(JSON.stringify(result));
  else console.table({ lmdb, level });
} finally {
  rmSync(root, { recursive: true, force: true });
}
