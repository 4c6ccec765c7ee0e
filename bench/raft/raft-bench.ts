// `npm run bench:raft [-- --json]`: Raft throughput in-process. A 3-node group over
// MemoryStorage and a zero-latency in-memory network, driven by the Ready contract; counts
// entries committed and applied on every node per second, proposing 1 or 1,000 entries per
// proposal call. Also measures simulated seeds per minute of the deterministic simulator.
// Writes bench/results/raft.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type Message, MemoryStorage, RawNode, StateType, bootstrapMemoryStorage } from '../../core/src/raft/index.ts';
import { Prng } from '../../core/src/testing/prng.ts';
import { runSimulation } from '../../test/sim/simulator.ts';

interface Node {
  rn: RawNode;
  storage: MemoryStorage;
  applied: number;
}

/**
 * Compacts every log up to what all nodes applied (checked every 8,192 proposed entries, once
 * 4,096 applied entries are behind the first index), as a shell does after snapshotting:
 * retaining millions of entries would make the benchmark measure the garbage collector.
 */
function compact(nodes: Node[]): void {
  let upTo = Infinity;
  for (const n of nodes) upTo = Math.min(upTo, n.rn.raft.raftLog.applied);
  for (const n of nodes) {
    if (upTo - n.storage.firstIndex() < 4096) continue;
    n.storage.compact(upTo);
    n.rn.compacted(upTo);
  }
}

function makeGroup(): Node[] {
  const prng = new Prng(1);
  const nodes: Node[] = [];
  for (const id of [1, 2, 3]) {
    const storage = new MemoryStorage();
    bootstrapMemoryStorage(storage, [1, 2, 3]);
    const rn = new RawNode({ id, storage, random: prng.fork(), maxSizePerMessageBytes: 4 << 20, maxInflightMessages: 256 });
    nodes.push({ rn, storage, applied: 0 });
  }
  return nodes;
}

/** One round: every node handles its Ready; then every message is delivered. */
function round(nodes: Node[], queue: Message[]): void {
  for (const n of nodes) {
    if (!n.rn.hasReady()) continue;
    const rd = n.rn.ready();
    if (rd.hardState !== null) n.storage.setHardState(rd.hardState);
    if (rd.entries.length > 0) n.storage.append(rd.entries);
    for (let k = 0; k < rd.messages.length; k++) queue.push(rd.messages[k]!);
    n.applied += rd.committedEntries.length;
    n.rn.advance();
  }
  const q = queue.splice(0, queue.length);
  for (let k = 0; k < q.length; k++) {
    const m = q[k]!;
    nodes[m.to - 1]!.rn.step(m);
  }
}

function throughput(batch: number, total: number): { entriesPerSec: number; seconds: number } {
  const nodes = makeGroup();
  const queue: Message[] = [];
  nodes[0]!.rn.campaign();
  for (let k = 0; k < 20; k++) round(nodes, queue);
  const leader = nodes[0]!;
  if (leader.rn.raft.state !== StateType.Leader) throw new Error('no leader');
  const base = nodes.map((n) => n.applied);
  const payload = new Uint8Array(16);
  const datas: Uint8Array[] = new Array(batch).fill(payload);
  const t0 = performance.now();
  let proposed = 0;
  while (proposed < total) {
    if (batch === 1) leader.rn.propose(payload);
    else leader.rn.proposeBatch(datas);
    proposed += batch;
    round(nodes, queue);
    if ((proposed & 0x1fff) < batch) compact(nodes);
  }
  for (let k = 0; k < 100 && nodes.some((n, i) => n.applied - base[i]! < total); k++) round(nodes, queue);
  const seconds = (performance.now() - t0) / 1000;
  for (let i = 0; i < 3; i++) if (nodes[i]!.applied - base[i]! < total) throw new Error(`node ${i + 1} applied ${nodes[i]!.applied - base[i]!} of ${total}`);
  return { entriesPerSec: total / seconds, seconds };
}

function seedsPerMinute(seconds: number): { seedsPerMinute: number; seeds: number } {
  const t0 = performance.now();
  let seeds = 0;
  while (performance.now() - t0 < seconds * 1000) {
    const r = runSimulation({ seed: 900_000 + seeds });
    if (r.violations.length > 0) throw new Error(`simulation seed ${r.seed} failed`);
    seeds++;
  }
  return { seedsPerMinute: (seeds * 60_000) / (performance.now() - t0), seeds };
}

const json = process.argv.includes('--json');
throughput(1, 20_000); // warm-up
throughput(1000, 200_000);
const single = throughput(1, 100_000);
const batched = throughput(1000, 2_000_000);
const sim = seedsPerMinute(10);
const result = {
  benchmark: 'raft',
  node: process.version,
  group: '3 nodes, in-process, zero-latency network, MemoryStorage compacted behind the applied index every 8,192 entries, 16-byte entries',
  entriesPerSecBatch1: Math.round(single.entriesPerSec),
  entriesPerSecBatch1000: Math.round(batched.entriesPerSec),
  simSeedsPerMinute: Math.round(sim.seedsPerMinute),
  targetEntriesPerSecBatched: 1_000_000,
  date: new Date().toISOString(),
};
const out = join(dirname(new URL(import.meta.url).pathname), '../results/raft.json');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
if (json) {
  console.log(JSON.stringify(result));
} else {
  console.log('| measure                                  | value        |');
  console.log('| ---------------------------------------- | ------------ |');
  console.log(`| committed entries/s, batch of 1         | ${String(result.entriesPerSecBatch1).padStart(12)} |`);
  console.log(`| committed entries/s, batch of 1,000     | ${String(result.entriesPerSecBatch1000).padStart(12)} |`);
  console.log(`| simulated seeds/minute (1,200+ ticks)    | ${String(result.simSeedsPerMinute).padStart(12)} |`);
  console.log(`target: >= 1,000,000 entries/s batched: ${result.entriesPerSecBatch1000 >= 1_000_000 ? 'met' : 'NOT met'}`);
}
