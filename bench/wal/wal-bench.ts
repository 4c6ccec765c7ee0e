// Group commit in the write-ahead log: appends per second with one fdatasync per append
// (each writer waits alone) against many writers sharing fdatasyncs, plus the fsync latency
// this disk gives. `npx tsx bench/wal/wal-bench.ts [-- --json]`; writes bench/results/wal.json.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { WriteAheadLog } from '../../server/src/wal/wal.ts';

const json = process.argv.includes('--json');
const payload = new Uint8Array(256).fill(7);

function pct(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

async function run(writers: number, total: number): Promise<{ recordsPerSec: number; syncs: number; fsyncP50Ms: number; fsyncP99Ms: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'npx-walbench-'));
  const fsyncs: number[] = [];
  const wal = await WriteAheadLog.open(dir, { onSync: (i) => fsyncs.push(i.durationMs) });
  let next = 1;
  const t0 = performance.now();
  const writer = async (): Promise<void> => {
    // Bounded: each writer takes indexes until `total` are written.
    while (next <= total) {
      const index = next++;
      wal.append([{ index, term: 1, type: 0, data: payload }]);
      await wal.sync();
    }
  };
  await Promise.all(Array.from({ length: writers }, writer));
  const seconds = (performance.now() - t0) / 1000;
  await wal.close();
  rmSync(dir, { recursive: true, force: true });
  fsyncs.sort((a, b) => a - b);
  return { recordsPerSec: Math.round(total / seconds), syncs: wal.stats.syncs, fsyncP50Ms: +pct(fsyncs, 50).toFixed(3), fsyncP99Ms: +pct(fsyncs, 99).toFixed(3) };
}

const single = await run(1, 500);
const grouped = await run(64, 20_000);
const result = {
  recordBytes: payload.length,
  oneWriterRecordsPerSec: single.recordsPerSec,
  oneWriterSyncs: single.syncs,
  groupWriters: 64,
  groupRecordsPerSec: grouped.recordsPerSec,
  groupSyncs: grouped.syncs,
  groupRecordsPerSync: +(20_000 / grouped.syncs).toFixed(1),
  fsyncP50Ms: single.fsyncP50Ms,
  fsyncP99Ms: single.fsyncP99Ms,
};
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/wal.json', JSON.stringify(result, null, 2) + '\n');
if (json) console.log(JSON.stringify(result));
else console.table(result);
