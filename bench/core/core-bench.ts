// npm run bench:core [-- --json] [-- --runs N]
// Local mutation throughput per type, merge of two 100k-element ORSets, encoded size of
// one-op deltas, and deltaSince on a 100k-key replica. Medians of several runs, timed in
// process CPU time, with the bare Map-insert floor measured in the same run.
import type { ReplicaId } from '../../core/src/clock/replica-id.ts';
import { ORSet } from '../../core/src/crdt/or-set.ts';
import { PNCounter } from '../../core/src/crdt/pn-counter.ts';
import { GCounter } from '../../core/src/crdt/g-counter.ts';
import { LWWRegister } from '../../core/src/crdt/lww-register.ts';
import { ORMap } from '../../core/src/crdt/or-map.ts';
import { Replica } from '../../core/src/doc/replica.ts';
import { flagValue, hasFlag, machineInfo, medianOf, writeResult } from '../support/report.ts';

const RUNS = Number(flagValue('--runs') ?? 5);
const A = 0x1234567890abc as ReplicaId;
const B = 0x0fedcba987654 as ReplicaId;

/** Process CPU time in ms: on a shared machine, waiting for a core is not our cost. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function opsPerSec(n: number, body: () => void): number {
  const t0 = cpuMs();
  body();
  return n / ((cpuMs() - t0) / 1000);
}

/**
 * The floor for any set add: inserting one retained element object into a Map under a
 * fresh string key. Measured in the same run, so a loaded machine shows up in both.
 */
function mapInsertFloor(): number {
  const n = 500_000;
  const m = new Map<string, { v: number; d: { r: number; c: number }[] }>();
  return opsPerSec(n, () => {
    for (let i = 0; i < n; i++) m.set(String(i), { v: i, d: [{ r: 1, c: i }] });
  });
}

/** The floor for merging 100k elements into a set: 100k retained Map inserts, in ms. */
function mergeFloorMs(): number {
  const m = new Map<string, { v: string; d: { r: number; c: number }[] }>();
  for (let i = 0; i < 100_000; i++) m.set(`a${i}`, { v: `a${i}`, d: [{ r: 1, c: i }] });
  const t0 = cpuMs();
  for (let i = 0; i < 100_000; i++) m.set(`b${i}`, { v: `b${i}`, d: [{ r: 2, c: i }] });
  return cpuMs() - t0;
}

/** Adds over 1,000 values already present: the op itself, without the set growing. */
function orsetAddSteady(): number {
  const n = 1_000_000;
  const s = new ORSet(A);
  for (let i = 0; i < 1000; i++) s.add(i);
  return opsPerSec(n, () => {
    for (let i = 0; i < n; i++) s.add(i % 1000);
  });
}

function counterInc(): number {
  const n = 2_000_000;
  const c = new GCounter(A);
  return opsPerSec(n, () => {
    for (let i = 0; i < n; i++) c.increment(1);
  });
}

function pnCounterInc(): number {
  const n = 2_000_000;
  const c = new PNCounter(A);
  return opsPerSec(n, () => {
    for (let i = 0; i < n; i++) c.increment(i & 1 ? 1 : -1);
  });
}

function orsetAdd(): number {
  const n = 500_000;
  const s = new ORSet(A);
  return opsPerSec(n, () => {
    for (let i = 0; i < n; i++) s.add(i);
  });
}

function lwwSet(): number {
  const n = 1_000_000;
  const r = new LWWRegister(A);
  return opsPerSec(n, () => {
    for (let i = 0; i < n; i++) r.set(i, i);
  });
}

function ormapIncrement(): number {
  const n = 500_000;
  const m = new ORMap(A);
  return opsPerSec(n, () => {
    for (let i = 0; i < n; i++) m.increment(['page', `k${i & 1023}`], 1);
  });
}

function replicaPut(): number {
  const n = 300_000;
  const r = new Replica({ replicaId: A });
  return opsPerSec(n, () => {
    for (let i = 0; i < n; i++) r.put(`key:${i & 4095}`, i);
  });
}

function orsetMerge100k(): number {
  const a = new ORSet(A);
  const b = new ORSet(B);
  for (let i = 0; i < 100_000; i++) a.add(`a${i}`);
  for (let i = 0; i < 100_000; i++) b.add(`b${i}`);
  const t0 = cpuMs();
  a.merge(b);
  const ms = cpuMs() - t0;
  if (a.size !== 200_000) throw new Error(`merge produced ${a.size} elements`);
  return ms;
}

function oneOpDeltaSizes(): Record<string, number> {
  const r = new Replica({ replicaId: A, now: () => 1_764_000_000_000 });
  r.counter('views').increment();
  r.put('title', 'x');
  r.set('tags').add('x');
  const sizes = {
    counterIncrement: r.encodeDelta(r.counter('views').increment()).length,
    registerWrite: r.encodeDelta(r.put('title', 'y')).length,
    setAdd: r.encodeDelta(r.set('tags').add('y')).length,
    setRemove: r.encodeDelta(r.set('tags').remove('x')).length,
    mapFieldWrite: r.encodeDelta(r.map('user:1').set('name', 'Ada')).length,
  };
  return sizes;
}

function deltaSince100k(): { resumeMs: number; fullMs: number; resumeBytes: number } {
  const r = new Replica({ replicaId: A });
  for (let i = 0; i < 100_000; i++) r.put(`key:${i}`, i);
  const peer = r.contextOf();
  for (let i = 0; i < 100; i++) r.put(`key:${i * 997}`, -i);
  let t0 = cpuMs();
  const resume = r.deltaSince(peer);
  const bytes = r.encodeDelta(resume).length;
  const resumeMs = cpuMs() - t0;
  const empty = new Replica({ replicaId: B }).contextOf();
  t0 = cpuMs();
  r.deltaSince(empty);
  const fullMs = cpuMs() - t0;
  return { resumeMs, fullMs, resumeBytes: bytes };
}

// Warm up the JIT once before measuring.
counterInc();
orsetAdd();

const result = {
  counterIncOpsPerSec: Math.round(medianOf(RUNS, counterInc)),
  pnCounterIncOpsPerSec: Math.round(medianOf(RUNS, pnCounterInc)),
  orsetAddOpsPerSec: Math.round(medianOf(RUNS, orsetAdd)),
  mapInsertFloorOpsPerSec: Math.round(medianOf(RUNS, mapInsertFloor)),
  orsetAddSteadyOpsPerSec: Math.round(medianOf(RUNS, orsetAddSteady)),
  lwwSetOpsPerSec: Math.round(medianOf(RUNS, lwwSet)),
  ormapIncrementOpsPerSec: Math.round(medianOf(RUNS, ormapIncrement)),
  replicaPutOpsPerSec: Math.round(medianOf(RUNS, replicaPut)),
  oneOpDeltaBytes: oneOpDeltaSizes().counterIncrement,
  oneOpDeltaBytesByOp: oneOpDeltaSizes(),
  orsetMerge100kMs: Number(medianOf(RUNS, orsetMerge100k).toFixed(2)),
  mergeFloor100kMs: Number(medianOf(RUNS, mergeFloorMs).toFixed(2)),
  deltaSince100kKeysMs: 0,
  deltaSince100kKeysFullMs: 0,
  deltaSince100kKeysResumeBytes: 0,
};
const ds: { resumeMs: number; fullMs: number; resumeBytes: number }[] = [];
for (let i = 0; i < RUNS; i++) ds.push(deltaSince100k());
result.deltaSince100kKeysMs = Number(medianOf(1, () => ds.map((d) => d.resumeMs).sort((a, b) => a - b)[ds.length >> 1]!).toFixed(2));
result.deltaSince100kKeysFullMs = Number(ds.map((d) => d.fullMs).sort((a, b) => a - b)[ds.length >> 1]!.toFixed(2));
result.deltaSince100kKeysResumeBytes = ds[0]!.resumeBytes;

const targets = {
  counterIncOpsPerSec: result.counterIncOpsPerSec >= 5_000_000,
  orsetAddOpsPerSec: result.orsetAddOpsPerSec >= 1_000_000,
  oneOpDeltaBytes: result.oneOpDeltaBytes <= 32,
  orsetMerge100kMs: result.orsetMerge100kMs <= 50,
};
writeResult('core.json', { ...result, targetsMet: targets, runs: RUNS, machine: machineInfo() });

if (hasFlag('--json')) {
  console.log(JSON.stringify(result));
} else {
  console.log(`bench:core — medians of ${RUNS} runs (bench/results/core.json)`);
  const rows: [string, string, string][] = [
    ['GCounter increment', `${(result.counterIncOpsPerSec / 1e6).toFixed(2)} M ops/s`, `≥ 5 M  ${targets.counterIncOpsPerSec ? 'met' : 'MISSED'}`],
    ['PNCounter increment', `${(result.pnCounterIncOpsPerSec / 1e6).toFixed(2)} M ops/s`, ''],
    ['ORSet add', `${(result.orsetAddOpsPerSec / 1e6).toFixed(2)} M ops/s`, `≥ 1 M  ${targets.orsetAddOpsPerSec ? 'met' : 'MISSED'}`],
    ['  floor: bare Map insert of one element', `${(result.mapInsertFloorOpsPerSec / 1e6).toFixed(2)} M ops/s`, `ORSet add = ${(result.orsetAddOpsPerSec / result.mapInsertFloorOpsPerSec).toFixed(2)}× floor`],
    ['ORSet add, 1k values present (steady)', `${(result.orsetAddSteadyOpsPerSec / 1e6).toFixed(2)} M ops/s`, ''],
    ['LWWRegister set', `${(result.lwwSetOpsPerSec / 1e6).toFixed(2)} M ops/s`, ''],
    ['ORMap nested counter increment', `${(result.ormapIncrementOpsPerSec / 1e6).toFixed(2)} M ops/s`, ''],
    ['Replica put (with events)', `${(result.replicaPutOpsPerSec / 1e6).toFixed(2)} M ops/s`, ''],
    ['one-op delta, counter increment', `${result.oneOpDeltaBytes} B`, `≤ 32  ${targets.oneOpDeltaBytes ? 'met' : 'MISSED'}`],
    ...Object.entries(result.oneOpDeltaBytesByOp).map(([k, v]) => [`  one-op delta, ${k}`, `${v} B`, ''] as [string, string, string]),
    ['merge two 100k ORSets', `${result.orsetMerge100kMs} ms`, `≤ 50  ${targets.orsetMerge100kMs ? 'met' : 'MISSED'}`],
    ['  floor: 100k bare Map inserts', `${result.mergeFloor100kMs} ms`, `merge = ${(result.orsetMerge100kMs / result.mergeFloor100kMs).toFixed(2)}× floor`],
    ['deltaSince, 100k keys, peer missing 100', `${result.deltaSince100kKeysMs} ms (${result.deltaSince100kKeysResumeBytes} B)`, ''],
    ['deltaSince, 100k keys, empty peer', `${result.deltaSince100kKeysFullMs} ms`, ''],
  ];
  for (const [a, b, c] of rows) console.log(`${a.padEnd(42)} ${b.padStart(22)}   ${c}`);
}
