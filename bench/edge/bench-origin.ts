// The origin side of `npm run bench:edge`: a real 3-node Raft cluster (`neuroplex cluster`,
// its own process group, stopped by that group) and origin-observer.ts in its own process
// (relays tapping the edge's link to each node, and a subscriber at the leader).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePortRun } from '../../test/support/free-port.ts';
import { type LocalCluster, startLocalCluster } from '../../test/support/local-cluster.ts';

const ROOT = join(import.meta.dirname, '..', '..');

/** The origin: a real 3-node Raft cluster (`neuroplex cluster`) in its own process group. */
export type Origin = LocalCluster;

export async function startCluster(dataDir: string): Promise<Origin> {
  return startLocalCluster({ basePort: await freePortRun(3), dataDir });
}

/** origin-observer.ts: the edge's relays to the nodes, and the leader's subscriber. */
export interface Observer {
  readonly relays: readonly number[];
  /** Wall-clock ms of every delta frame the edge sent toward the origin, in order. */
  readonly ups: number[];
  /** Value of `k` -> when the leader's subscriber saw it. */
  readonly commits: Map<number, number>;
  stop(): Promise<void>;
}

export async function startObserver(origin: Origin, keyspace: string): Promise<Observer> {
  const child = spawn(join(ROOT, 'node_modules', '.bin', 'tsx'), [join(ROOT, 'bench', 'edge', 'origin-observer.ts'), keyspace, String(origin.leaderPort), origin.ports.join(',')], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const ups: number[] = [];
  const commits = new Map<number, number>();
  let buf = '';
  const relays = await new Promise<number[]>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('origin observer did not start')), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = JSON.parse(buf.slice(0, nl)) as { relays?: number[]; up?: number; k?: unknown; seenAt?: number };
        buf = buf.slice(nl + 1);
        if (line.relays !== undefined) {
          clearTimeout(t);
          resolve(line.relays);
        } else if (line.up !== undefined) ups.push(line.up);
        else if (typeof line.k === 'number') commits.set(line.k, line.seenAt!);
      }
    });
    child.once('exit', () => reject(new Error('origin observer exited')));
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
  };
  return { relays, ups, commits, stop };
}

/** The first stamp at or after `t0` (stamps ascend). */
export function firstAfter(stamps: readonly number[], t0: number): number | undefined {
  for (let i = stamps.length - 1; i >= 0; i--) if (stamps[i]! < t0) return stamps[i + 1];
  return stamps[0];
}
