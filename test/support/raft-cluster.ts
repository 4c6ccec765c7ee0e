// An in-process cluster of RaftNodes for tests: each with its own WAL, LMDB store and HTTP
// server on 127.0.0.1 (an ephemeral port), linked by the real WebSocket peer transport.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLIENT_PATH, ClientProtocolServer } from '../../server/src/client/client-server.ts';
import { PEER_PATH } from '../../server/src/cluster/peer-transport.ts';
import { RaftNode } from '../../server/src/cluster/raft-node.ts';
import { SyncEndpoint } from '../../server/src/sync/sync-endpoint.ts';
import type { MemberInfo } from '../../server/src/node/origin-node.ts';
import { LmdbKvStorage } from '../../server/src/storage/lmdb-storage.ts';
import { WriteAheadLog } from '../../server/src/wal/wal.ts';

export interface ClusterMember {
  readonly info: MemberInfo;
  readonly dir: string;
  server: Server;
  node: RaftNode | null;
  wal: WriteAheadLog | null;
  storage: LmdbKvStorage | null;
  /** The binary client protocol endpoint of the running node. */
  clients: ClientProtocolServer | null;
  /** The member's /v1/sync endpoint while its node runs. */
  sync: SyncEndpoint | null;
}

export const SECRET = 'test-cluster-secret';

export interface ClusterOptions {
  readonly tickMs?: number;
  readonly snapshotEveryEntries?: number;
  readonly snapshotCatchUpEntries?: number;
  /** WAL segment size (small ones let compaction delete files in tests). */
  readonly walSegmentBytes?: number;
}

/** Binds one HTTP server per member first (so every URL is known), then starts the nodes. */
export async function startCluster(size: number, options: ClusterOptions = {}): Promise<ClusterMember[]> {
  const root = mkdtempSync(join(tmpdir(), 'neuroplex-raft-'));
  const members: ClusterMember[] = [];
  for (let i = 1; i <= size; i++) {
    const server = createServer((_req, res) => res.writeHead(404).end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    members.push({ info: { id: `n${i}`, url: `http://127.0.0.1:${port}`, learner: false }, dir: join(root, `n${i}`), server, node: null, wal: null, storage: null, clients: null, sync: null });
  }
  for (const m of members) {
    m.server.on('upgrade', (req, socket, head) => {
      if (req.url === PEER_PATH && m.node !== null) m.node.transport.handleUpgrade(req, socket, head);
      else if (req.url === CLIENT_PATH && m.clients !== null) m.clients.handleUpgrade(req, socket, head);
      else if (SyncEndpoint.matches(req) && m.sync !== null) m.sync.handleUpgrade(req, socket, head);
      else socket.destroy();
    });
  }
  for (const m of members) await startMember(m, members, options);
  return members;
}

export async function startMember(m: ClusterMember, all: readonly ClusterMember[], options: ClusterOptions = {}): Promise<void> {
  m.wal = await WriteAheadLog.open(join(m.dir, 'wal'), options.walSegmentBytes === undefined ? {} : { segmentBytes: options.walSegmentBytes });
  m.storage = new LmdbKvStorage({ path: join(m.dir, 'kv') });
  m.node = await RaftNode.open({
    self: m.info,
    initialMembers: all.map((x) => x.info),
    wal: m.wal,
    storage: m.storage,
    clusterSecret: SECRET,
    tickMs: options.tickMs ?? 20,
    ...(options.snapshotEveryEntries === undefined ? {} : { snapshotEveryEntries: options.snapshotEveryEntries }),
    ...(options.snapshotCatchUpEntries === undefined ? {} : { snapshotCatchUpEntries: options.snapshotCatchUpEntries }),
  });
  m.clients = new ClientProtocolServer({ node: m.node });
  m.sync = new SyncEndpoint({ node: m.node });
}

/** Stops a member's node and closes its files, as a crash would (nothing more is written). */
export async function stopMember(m: ClusterMember): Promise<void> {
  m.clients?.close();
  m.clients = null;
  m.sync?.close();
  m.sync = null;
  m.node?.stop('stopped by test');
  m.node = null;
  await m.wal?.close();
  m.wal = null;
  await m.storage?.close();
  m.storage = null;
}

export async function stopCluster(members: readonly ClusterMember[]): Promise<void> {
  for (const m of members) {
    await stopMember(m);
    await new Promise<void>((r) => m.server.close(() => r()));
  }
  if (members.length > 0) rmSync(join(members[0]!.dir, '..'), { recursive: true, force: true });
}

/** Waits (bounded) until `check` returns a value. */
export async function eventually<T>(check: () => T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function leaderOf(members: readonly ClusterMember[]): ClusterMember | undefined {
  const views = members.filter((m) => m.node !== null).map((m) => m.node!.cluster().leader);
  const named = views.find((v) => v !== null);
  if (named === undefined || views.some((v) => v !== named)) return undefined;
  return members.find((m) => m.info.id === named && m.node !== null);
}
