// `npm run soak:raft -- --minutes M [--start S] [--ticks T] [--async]`: runs consecutive seeds
// for M minutes with a progress bar; prints every failing seed with its trace, exits 1 if any.
// --async: the nodes use asynchronous storage writes.
import { formatFailure, runSimulation } from './simulator.ts';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} needs a non-negative number`);
  return v;
}

const minutes = arg('minutes', 1);
const start = arg('start', Math.floor(Date.now() / 1000) % 1_000_000_000);
const faultTicks = arg('ticks', 1500);
const budgetMs = minutes * 60_000;
const asyncWrites = process.argv.includes('--async');
const t0 = Date.now();
const failed: number[] = [];
let seeds = 0;
let ops = 0;
const tty = process.stdout.isTTY === true;
const WIDTH = 30;

function bar(): string {
  const frac = Math.min(1, (Date.now() - t0) / budgetMs);
  const filled = Math.round(frac * WIDTH);
  const rate = seeds / Math.max(1e-9, (Date.now() - t0) / 60_000);
  return `[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${(frac * 100).toFixed(0).padStart(3)}%  seeds ${seeds}  ops ${ops}  failed ${failed.length}  ${rate.toFixed(0)} seeds/min`;
}

let lastPrint = 0;
while (Date.now() - t0 < budgetMs) {
  const seed = start + seeds;
  const r = runSimulation({ seed, faultTicks, asyncWrites });
  seeds++;
  ops += r.ops;
  if (r.violations.length > 0) {
    failed.push(seed);
    process.stdout.write(tty ? '\n' : '');
    console.log(formatFailure(r));
  }
  if (Date.now() - lastPrint > 500) {
    lastPrint = Date.now();
    if (tty) process.stdout.write(`\r${bar()}`);
    else if (seeds % 50 === 0) console.log(bar());
  }
}
process.stdout.write(tty ? `\r${bar()}\n` : `${bar()}\n`);
console.log(JSON.stringify({ seeds, start, violations: failed.length, ops, failedSeeds: failed }));
process.exit(failed.length > 0 ? 1 : 0);
