// `npm run sim -- --seeds N --start S [--json] [--ticks T] [--async]`: runs seeds S..S+N-1 and
// exits 1 on any violation, printing each failing seed with a short trace. --async: the nodes
// use asynchronous storage writes.
import { formatFailure, runSimulation } from './simulator.ts';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isSafeInteger(v) || v < 0) throw new Error(`--${name} needs a non-negative integer`);
  return v;
}

const seeds = arg('seeds', 100);
const start = arg('start', 1);
const faultTicks = arg('ticks', 1200);
const json = process.argv.includes('--json');
const asyncWrites = process.argv.includes('--async');
let violations = 0;
let linearizable = 0;
let ops = 0;
const overlap = { readies: 0, crashes: 0 };
const failedSeeds: number[] = [];
for (let seed = start; seed < start + seeds; seed++) {
  const r = runSimulation({ seed, faultTicks, asyncWrites });
  ops += r.ops;
  overlap.readies += r.overlap.readies;
  overlap.crashes += r.overlap.crashes;
  if (r.linearizabilityChecked) linearizable++;
  if (r.violations.length > 0) {
    violations += r.violations.length;
    failedSeeds.push(seed);
    console.error(formatFailure(r));
  }
}
if (json) {
  console.log(JSON.stringify({ seeds, violations, linearizable, ops, failedSeeds, ...(asyncWrites ? { overlap } : {}) }));
} else {
  console.log(`seeds ${seeds} (from ${start}): ${violations} violations, ${linearizable} histories checked linearizable, ${ops} client ops, failed seeds [${failedSeeds.join(', ')}]${asyncWrites ? `; async writes: ${overlap.readies} Readys taken with writes in flight, ${overlap.crashes} crashes with writes in flight` : ''}`);
}
process.exit(violations > 0 ? 1 : 0);
