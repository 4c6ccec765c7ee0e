// Raft snapshots on a real three-node cluster: the log is compacted every N applied entries,
// a follower stopped while the leader compacts far past it catches up by InstallSnapshot, and
// nodes restart from a compacted WAL (snapshot file + configuration in the WAL record).
import { afterEach, describe, expect, it } from 'vitest';
import { KvCommandType } from '../../../core/src/kv/commands.ts';
import { type ClusterMember, eventually, leaderOf, startCluster, startMember, stopCluster, stopMember } from '../../support/raft-cluster.ts';

let cluster: ClusterMember[] = [];
afterEach(async () => {
  await stopCluster(cluster);
  cluster = [];
});

const put = (key: string, value: unknown) => ({ type: KvCommandType.Put, ks: 'default', key, value }) as never;
const options = { snapshotEveryEntries: 40, snapshotCatchUpEntries: 0, walSegmentBytes: 2048 };

async function writeMany(m: ClusterMember, from: number, to: number): Promise<void> {
  // Pipelined in groups so the test stays fast; each group is one Raft round or two.
  for (let i = from; i < to; i += 20) {
    const batch: Promise<unknown>[] = [];
    for (let k = i; k < Math.min(to, i + 20); k++) batch.push(m.node!.propose(put(`k${k}`, k), { timeoutMs: 5_000 }));
    await Promise.all(batch);
    // A snapshot still being written makes the next one wait: let it finish, so how many
    // are taken depends on the entries written, not on how fast this disk is right now.
    await m.node!.snapshotSettled();
  }
}

describe('Raft snapshots', () => {
  it('a follower stopped while the leader compacts past it catches up by InstallSnapshot', { timeout: 30_000 }, async () => {
    cluster = await startCluster(3, options);
    const leader = await eventually(() => leaderOf(cluster), 'a leader');
    await writeMany(leader, 0, 10);
    const lagging = cluster.find((m) => m !== leader)!;
    await eventually(() => (lagging.node!.stateMachine.get('default', 'k9') !== undefined ? true : undefined), 'the follower to apply k9');
    await stopMember(lagging);
    await writeMany(leader, 10, 200);
    await leader.node!.snapshotSettled();
    const leaderSnap = leader.node!.snapshotStatus();
    expect(leaderSnap.taken).toBeGreaterThanOrEqual(4);
    expect(leader.wal!.snapshot.index).toBeGreaterThan(150);
    expect(leader.wal!.firstIndex).toBeGreaterThan(150);

    await startMember(lagging, cluster, options);
    expect(lagging.node!.snapshotStatus().installed).toBe(0);
    await eventually(() => (lagging.node!.stateMachine.get('default', 'k199') !== undefined ? true : undefined), 'the follower to catch up');
    // It was behind the leader's compacted log, so it can only have got there by a snapshot.
    expect(lagging.node!.snapshotStatus().installed).toBe(1);
    expect(lagging.wal!.snapshot.index).toBeGreaterThanOrEqual(leaderSnap.lastIndex);
    for (let i = 0; i < 200; i++) expect(lagging.node!.stateMachine.get('default', `k${i}`)?.value).toBe(i);
    // And it keeps replicating after the snapshot.
    await leader.node!.propose(put('after', true), { timeoutMs: 5_000 });
    await eventually(() => (lagging.node!.stateMachine.get('default', 'after') !== undefined ? true : undefined), 'a write after the snapshot');
  });

  it('keeps entries behind a snapshot: a follower a little behind catches up from the log', { timeout: 30_000 }, async () => {
    const keep = { ...options, snapshotCatchUpEntries: 500 };
    cluster = await startCluster(3, keep);
    const leader = await eventually(() => leaderOf(cluster), 'a leader');
    const lagging = cluster.find((m) => m !== leader)!;
    await stopMember(lagging);
    await writeMany(leader, 0, 200);
    await leader.node!.snapshotSettled();
    expect(leader.node!.snapshotStatus().taken).toBeGreaterThanOrEqual(3);
    await startMember(lagging, cluster, keep);
    await eventually(() => (lagging.node!.stateMachine.get('default', 'k199') !== undefined ? true : undefined), 'the follower to catch up');
    expect(lagging.node!.snapshotStatus().installed).toBe(0);
  });

  it('all nodes restart from compacted WALs with every committed write', { timeout: 30_000 }, async () => {
    cluster = await startCluster(3, options);
    const leader = await eventually(() => leaderOf(cluster), 'a leader');
    await writeMany(leader, 0, 150);
    for (const m of cluster) await eventually(() => (m.node!.stateMachine.appliedIndex >= leader.node!.stateMachine.appliedIndex ? true : undefined), `${m.info.id} to apply everything`);
    for (const m of cluster) await m.node!.snapshotSettled();
    for (const m of cluster) expect(m.wal!.snapshot.index).toBeGreaterThan(100);
    for (const m of cluster) await stopMember(m);
    for (const m of cluster) await startMember(m, cluster, options);
    const again = await eventually(() => leaderOf(cluster), 'a leader after the restart');
    for (const m of cluster) {
      expect(m.wal!.firstIndex).toBeGreaterThan(100);
      for (let i = 0; i < 150; i++) expect(m.node!.stateMachine.get('default', `k${i}`)?.value).toBe(i);
    }
    await again.node!.propose(put('after', 1), { timeoutMs: 5_000 });
    for (const m of cluster) {
      const e = await m.node!.read('default', 'after', { consistency: 'strong', timeoutMs: 5_000 });
      expect(e?.value).toBe(1);
    }
  });

  it('restores the state machine from the snapshot file when its store is empty', { timeout: 30_000 }, async () => {
    cluster = await startCluster(1, options);
    const only = await eventually(() => leaderOf(cluster), 'a leader');
    await writeMany(only, 0, 100);
    await only.node!.snapshotSettled();
    const snapAt = only.wal!.snapshot.index;
    expect(snapAt).toBeGreaterThanOrEqual(40); // the rest of the writes replay from the WAL
    await stopMember(only);
    const { rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    rmSync(join(only.dir, 'kv'), { recursive: true, force: true });
    await startMember(only, cluster, options);
    await eventually(() => leaderOf(cluster), 'the node to lead again');
    for (let i = 0; i < 100; i++) expect(only.node!.stateMachine.get('default', `k${i}`)?.value).toBe(i);
  });
});
