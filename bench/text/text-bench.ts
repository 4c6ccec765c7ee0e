// Text CRDT benchmark: replays each editing trace with Neuroplex, Yjs and Automerge side
// by side (replay, encode, encoded bytes, decode and read, heap), plus one keystroke on a
// ~100k-character document (apply locally and encode its delta; decode and apply remotely).
//
//   npm run bench:text                                  all traces, all engines (5 rounds;
//                                                       3 on the concurrent trace)
//   npm run bench:text -- --runs 5 --peer-runs 1        runs of Neuroplex and Yjs / of Automerge
//   npm run bench:text -- --automerge-concurrent        also replay the concurrent trace with
//                                                       Automerge (thousands of clones: very slow)
//   npm run bench:text -- --trace <file.json.gz> --json  Neuroplex only, one JSON line
//
// Traces: the editing-traces collection (Joseph Gentle and contributors); automerge-paper
// prepared by Martin Kleppmann; sveltecomponent and friendsforever under CC BY 4.0.
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import * as Y from 'yjs';
import { replicaId } from '../../core/src/clock/replica-id.ts';
import type { TextDocument } from '../../core/src/text/standalone-text.ts';
import { automerge, type Engine, isConcurrent, neuroplex, replay, type Trace, yjs } from './engines.ts';

const TRACES_DIR = '/work/shared/traces';
const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'results');
const ATTRIBUTION =
  'Traces from the editing-traces collection (Joseph Gentle and contributors); automerge-paper prepared by Martin Kleppmann for automerge-perf; sveltecomponent and friendsforever published under CC BY 4.0.';

interface Row {
  trace: string;
  engine: string;
  ok: boolean;
  replayMs: number;
  encodeMs: number;
  docBytes: number;
  decodeMs: number;
  heapBytes: number;
}

const gc = (globalThis as { gc?: () => void }).gc;
function collect(): void {
  if (gc !== undefined) {
    gc();
    gc();
  }
}
/** JS heap plus memory outside it (typed arrays, WebAssembly memory). */
function memory(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

function loadTrace(path: string): Trace {
  return JSON.parse(gunzipSync(readFileSync(path)).toString('utf8')) as Trace;
}

function measure<D>(engine: Engine<D>, name: string, trace: Trace): Row {
  collect();
  const before = memory();
  const t0 = performance.now();
  const doc = replay(engine, trace);
  const replayMs = performance.now() - t0;
  collect();
  const heapBytes = memory() - before;
  const t1 = performance.now();
  const bytes = engine.encode(doc);
  const encodeMs = performance.now() - t1;
  const t2 = performance.now();
  const decoded = engine.decodeText(bytes);
  const decodeMs = performance.now() - t2;
  const ok = engine.text(doc) === trace.endContent && decoded === trace.endContent;
  return { trace: name, engine: engine.name, ok, replayMs, encodeMs, docBytes: bytes.length, decodeMs, heapBytes };
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function medianRow(rows: Row[]): Row {
  const r0 = rows[0]!;
  return {
    trace: r0.trace,
    engine: r0.engine,
    ok: rows.every((r) => r.ok),
    replayMs: median(rows.map((r) => r.replayMs)),
    encodeMs: median(rows.map((r) => r.encodeMs)),
    docBytes: median(rows.map((r) => r.docBytes)),
    decodeMs: median(rows.map((r) => r.decodeMs)),
    heapBytes: median(rows.map((r) => r.heapBytes)),
  };
}

/** Seeded PRNG (mulberry32), so keystroke positions are the same every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface KeystrokeResult {
  engine: string;
  docLength: number;
  keystrokes: number;
  localMedianUs: number;
  localP99Us: number;
  localMaxUs: number;
  deltaBytesMedian: number;
  remoteMedianUs: number;
  remoteP99Us: number;
}

function pct(xs: number[], p: number): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))]!;
}

/** One keystroke at a random place of the replayed automerge-paper document (104,852 chars). */
function keystrokes(trace: Trace, count: number): KeystrokeResult[] {
  const out: KeystrokeResult[] = [];
  {
    const a = replay(neuroplex, trace) as TextDocument;
    const b = a.fork(replicaId(77));
    const rnd = prng(42);
    const local: number[] = [];
    const remote: number[] = [];
    const sizes: number[] = [];
    for (let i = 0; i < count; i++) {
      const at = Math.floor(rnd() * (a.length + 1));
      const t0 = performance.now();
      const bytes = a.encodeDelta(a.insert(at, 'x'));
      const t1 = performance.now();
      b.apply(b.decodeDelta(bytes));
      const t2 = performance.now();
      local.push((t1 - t0) * 1000);
      remote.push((t2 - t1) * 1000);
      sizes.push(bytes.length);
    }
    if (a.toString() !== b.toString()) throw new Error('keystroke replicas diverged');
    out.push({ engine: 'Neuroplex', docLength: a.length, keystrokes: count, localMedianUs: median(local), localP99Us: pct(local, 0.99), localMaxUs: Math.max(...local), deltaBytesMedian: median(sizes), remoteMedianUs: median(remote), remoteP99Us: pct(remote, 0.99) });
  }
  {
    const a = replay(yjs, trace);
    const b = yjs.fork(a, 77);
    const rnd = prng(42);
    const t = a.getText('text');
    let last: Uint8Array = new Uint8Array(0);
    a.on('updateV2', (u: Uint8Array) => {
      last = u;
    });
    const local: number[] = [];
    const remote: number[] = [];
    const sizes: number[] = [];
    for (let i = 0; i < count; i++) {
      const at = Math.floor(rnd() * (t.length + 1));
      const t0 = performance.now();
      t.insert(at, 'x');
      const bytes = last;
      const t1 = performance.now();
      Y.applyUpdateV2(b, bytes);
      const t2 = performance.now();
      local.push((t1 - t0) * 1000);
      remote.push((t2 - t1) * 1000);
      sizes.push(bytes.length);
    }
    out.push({ engine: 'Yjs', docLength: t.length, keystrokes: count, localMedianUs: median(local), localP99Us: pct(local, 0.99), localMaxUs: Math.max(...local), deltaBytesMedian: median(sizes), remoteMedianUs: median(remote), remoteP99Us: pct(remote, 0.99) });
  }
  return out;
}

function fmtMs(x: number): string {
  return x < 10 ? x.toFixed(2) : x.toFixed(0);
}
function fmtBytes(x: number): string {
  return x >= 1 << 20 ? `${(x / (1 << 20)).toFixed(1)} MiB` : `${(x / 1024).toFixed(1)} KiB`;
}

function table(rows: Row[]): string {
  const lines = ['| trace | engine | ok | replay ms | encode ms | bytes | decode+read ms | heap |', '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |'];
  for (const r of rows) {
    lines.push(`| ${r.trace} | ${r.engine} | ${r.ok ? 'yes' : 'NO'} | ${fmtMs(r.replayMs)} | ${fmtMs(r.encodeMs)} | ${r.docBytes} | ${fmtMs(r.decodeMs)} | ${fmtBytes(r.heapBytes)} |`);
  }
  return lines.join('\n');
}

function main(): void {
  const args = process.argv.slice(2);
  const flag = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const json = args.includes('--json');
  const one = flag('--trace');
  if (one !== undefined) {
    const trace = loadTrace(one);
    const row = measure(neuroplex, basename(one), trace);
    const line = { trace: row.trace, ok: row.ok, replayMs: row.replayMs, encodeMs: row.encodeMs, docBytes: row.docBytes, decodeMs: row.decodeMs, heapBytes: row.heapBytes };
    if (json) console.log(JSON.stringify(line));
    else console.log(table([row]));
    return;
  }
  if (gc === undefined) console.warn('note: run with --expose-gc (npm run bench:text does) for heap figures');
  const runs = Number(flag('--runs') ?? 5);
  // Automerge takes minutes per replay of automerge-paper on this machine: one run by default.
  const automergeRuns = Number(flag('--peer-runs') ?? 1);
  const engineNames = (flag('--engines') ?? 'Neuroplex,Yjs,Automerge').split(',');
  const engines = [neuroplex, yjs, automerge].filter((e) => engineNames.includes(e.name)) as Engine<unknown>[];
  const files = readdirSync(TRACES_DIR).filter((f) => f.endsWith('.json.gz')).sort();
  // Warm every engine's code up once (untimed) on the smallest sequential trace, so the
  // first timed run of the first trace does not pay for the JIT alone.
  const warmFile = files.find((f) => f.startsWith('sveltecomponent'));
  if (warmFile !== undefined) {
    const warm = loadTrace(join(TRACES_DIR, warmFile));
    for (const engine of engines) engine.decodeText(engine.encode(replay(engine, warm)));
  }
  const rows: Row[] = [];
  const samplesByRow: Record<string, number[]> = {};
  for (const file of files) {
    const trace = loadTrace(join(TRACES_DIR, file));
    const name = file.replace('.json.gz', '');
    // Runs are interleaved (Neuroplex, Yjs, Automerge, Neuroplex, Yjs, ...) so that every
    // engine sees the same machine load over time; Automerge runs only in the first round.
    const todo = engines.filter((engine) => {
      if (engine === (automerge as Engine<unknown>) && isConcurrent(trace) && !args.includes('--automerge-concurrent')) {
        console.error(`${name} ${engine.name}: skipped (fork and merge of thousands of clones takes many minutes; --automerge-concurrent runs it)`);
        return false;
      }
      return true;
    });
    const samples = new Map<string, Row[]>(todo.map((e) => [e.name, []]));
    const rounds = isConcurrent(trace) ? Math.min(runs, 3) : runs;
    for (let i = 0; i < rounds; i++) {
      for (const engine of todo) {
        if (engine === (automerge as Engine<unknown>) && i >= automergeRuns) continue;
        samples.get(engine.name)!.push(measure(engine, name, trace));
      }
    }
    for (const engine of todo) {
      const list = samples.get(engine.name)!;
      const row = medianRow(list);
      rows.push(row);
      samplesByRow[`${name} ${engine.name}`] = list.map((x) => Math.round(x.replayMs));
      console.error(`${name} ${engine.name}: replay ${fmtMs(row.replayMs)} ms, ${row.docBytes} bytes${isConcurrent(trace) ? ' (concurrent)' : ''}`);
    }
  }
  const ratios: Record<string, Record<string, number>> = {};
  for (const r of rows) {
    if (r.engine !== 'Neuroplex') continue;
    const y = rows.find((x) => x.trace === r.trace && x.engine === 'Yjs');
    if (y === undefined) continue;
    ratios[r.trace] = {
      replaySpeedupVsYjs: y.replayMs / r.replayMs,
      bytesRatioVsYjsV2: r.docBytes / y.docBytes,
      decodeRatioVsYjs: r.decodeMs / y.decodeMs,
      encodeRatioVsYjs: r.encodeMs / y.encodeMs,
      heapRatioVsYjs: r.heapBytes / y.heapBytes,
    };
  }
  const paper = files.find((f) => f.startsWith('automerge-paper'));
  const keys = paper !== undefined && engineNames.includes('Yjs') ? keystrokes(loadTrace(join(TRACES_DIR, paper)), 2000) : [];
  const result = { date: new Date().toISOString(), node: process.version, runs, automergeRuns, attribution: ATTRIBUTION, rows, replayMsSamples: samplesByRow, ratios, keystroke: keys };
  const md = [
    '# Text CRDT benchmark',
    '',
    `Medians of ${runs} interleaved runs per engine (3 on the concurrent trace; Automerge: ${automergeRuns}, and not on the concurrent trace unless asked), ${result.date}, Node ${process.version}, on a shared 2-core machine. Yjs bytes are \`Y.encodeStateAsUpdateV2\`; Automerge bytes are \`save()\`. Heap is JS heap plus external memory (WebAssembly memory included) held by the replayed document, after GC. Concurrent traces replay with fork and merge (one replica per branch).`,
    '',
    table(rows),
    '',
    `Replay samples (ms): ${Object.entries(samplesByRow).map(([k, v]) => `${k} ${v.join(' / ')}`).join('; ')}.`,
    '',
    '## Neuroplex against Yjs',
    '',
    '| trace | replay speed-up | bytes / Yjs V2 | decode time / Yjs | encode time / Yjs | heap / Yjs |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...Object.entries(ratios).map(([t, r]) => `| ${t} | ${r.replaySpeedupVsYjs!.toFixed(1)}× | ${r.bytesRatioVsYjsV2!.toFixed(3)} | ${r.decodeRatioVsYjs!.toFixed(2)} | ${r.encodeRatioVsYjs!.toFixed(2)} | ${r.heapRatioVsYjs!.toFixed(2)} |`),
    '',
    '## One keystroke on the replayed automerge-paper document',
    '',
    '| engine | doc chars | keystrokes | local apply+encode median µs | p99 µs | max µs | delta bytes | remote decode+apply median µs | p99 µs |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...keys.map((k) => `| ${k.engine} | ${k.docLength} | ${k.keystrokes} | ${k.localMedianUs.toFixed(1)} | ${k.localP99Us.toFixed(1)} | ${k.localMaxUs.toFixed(1)} | ${k.deltaBytesMedian} | ${k.remoteMedianUs.toFixed(1)} | ${k.remoteP99Us.toFixed(1)} |`),
    '',
    '## Notes',
    '',
    ...rows.filter((r) => !r.ok).map((r) => `- ${r.engine} does not read endContent on ${r.trace} (ok = NO): its figures are measured as they are.`),
    '- Automerge keeps its document in WebAssembly memory, which only grows: its heap figure is right for the first trace it replays and undercounts later ones.',
    '- Heap is a difference of two readings after GC; small figures (and the concurrent trace, whose thousands of forks leave garbage behind) are within noise and can even come out negative.',
    '- Timings come from a machine shared with other jobs; compare engines within one run (the ratios), not across runs. Every engine first replays sveltecomponent once, untimed, to warm its code up.',
    '',
    ATTRIBUTION,
    '',
  ].join('\n');
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, 'text.json'), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(RESULTS_DIR, 'text.md'), md);
  if (json) console.log(JSON.stringify(result));
  else console.log(md);
}

main();
