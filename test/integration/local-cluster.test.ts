// The shared `neuroplex cluster` helper (test/support/local-cluster.ts): ready means the
// nodes agree on a leader that answers; stop() leaves no node process behind, also when
// the cluster was paused (SIGSTOP) at the time.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePortRun } from '../support/free-port.ts';
import { agreedLeader, type LocalCluster, pidOfNode, startLocalCluster } from '../support/local-cluster.ts';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('local cluster helper', () => {
  const dir = mkdtempSync(join(tmpdir(), 'np-local-cluster-'));
  let cluster: LocalCluster | undefined;

  afterAll(async () => {
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 20_000);

  it('starts three nodes that agree on a leader, and stops every one of them while paused', async () => {
    const basePort = await freePortRun(3);
    cluster = await startLocalCluster({ basePort, dataDir: dir });
    expect(cluster.ports).toEqual([basePort, basePort + 1, basePort + 2]);
    expect(cluster.urls[cluster.ports.indexOf(cluster.leaderPort)]).toBe(cluster.leader.url);
    expect(cluster.leader.leader).toBe(cluster.leader.id);
    expect((await agreedLeader(cluster.urls)).id).toBe(cluster.leader.id);
    const pids = ['n1', 'n2', 'n3'].map((id) => pidOfNode(dir, id));
    expect(pids.every(alive)).toBe(true);
    cluster.pause();
    await cluster.stop();
    expect(pids.filter(alive)).toEqual([]);
  }, 60_000);
});
