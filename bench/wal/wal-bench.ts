// Group commit in the write-ahead log: appends per second with one fdatasync per append
// (each writer waits alone) against many writers sharing fdatasyncs, plus the fsync latency
// this disk gives. Each is measured with the segment preallocated (zeros written ahead, the
// default) and without, alternating, 3 rounds; medians are reported.
// `npm run bench:wal [-- --json]`; writes bench/results/wal.json.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { WriteAheadLog } from '../../server/src/wal/wal.ts';

const json = process.argv.includes('--json');
const payload = new Uint8Array(256).fill(7);

function pct(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

interface RunFigures {
  recordsPerSec: number;
  syncs: number;
  fsyncP50Ms: number;
  fsyncP99Ms: number;
}

async function run(writers: number, total: number, preallocateBytes: number): Promise<RunFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'npx-walbench-'));
  const fsyncs: number[] = [];
  const wal = await WriteAheadLog.open(dir, { preallocateBytes, onSync: (i) => fsyncs.push(i.durationMs) });
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

const ROUNDS = 3;
const PREALLOCATE = 1024 * 1024;
const runs: Record<string, RunFigures[]> = { single: [], singleBare: [], group: [], groupBare: [] };
for (let round = 0; round < ROUNDS; round++) {
  runs.single!.push(await run(1, 500, PREALLOCATE));
  runs.singleBare!.push(await run(1, 500, 0));
  runs.group!.push(await run(64, 20_000, PREALLOCATE));
  runs.groupBare!.push(await run(64, 20_000, 0));
}
function median(kind: string, figure: keyof RunFigures): number {
  const xs = runs[kind]!.map((r) => r[figure]).sort((a, b) => a - b);
  return xs[Math.floor(xs.length / 2)]!;
}
const result = {
  recordBytes: payload.length,
  rounds: ROUNDS,
  preallocateBytes: PREALLOCATE,
  oneWriterRecordsPerSec: median('single', 'recordsPerSec'),
  oneWriterSyncs: median('single', 'syncs'),
  fsyncP50Ms: median('single', 'fsyncP50Ms'),
  fsyncP99Ms: median('single', 'fsyncP99Ms'),
  groupWriters: 64,
  groupRecordsPerSec: median('group', 'recordsPerSec'),
  groupSyncs: median('group', 'syncs'),
  groupRecordsPerSync: +(20_000 / median('group', 'syncs')).toFixed(1),
  // The same without preallocation: every fdatasync also commits the file system journal.
  noPreallocOneWriterRecordsPerSec: median('singleBare', 'recordsPerSec'),
  noPreallocFsyncP50Ms: median('singleBare', 'fsyncP50Ms'),
  noPreallocFsyncP99Ms: median('singleBare', 'fsyncP99Ms'),
  noPreallocGroupRecordsPerSec: median('groupBare', 'recordsPerSec'),
  loadAverage1m: +loadavg()[0]!.toFixed(2),
};
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/wal.json', JSON.stringify(result, null, 2) + '\n');
if (json) console.log(JSON.stringify(result));
else console.table(result);
