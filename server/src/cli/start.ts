// `neuroplex start`: one origin node (LocalNode over LMDB + ARC cache + WAL + snapshots)
// serving the Origin HTTP API until SIGINT/SIGTERM. Data directory layout:
//   <data>/state/ LMDB · <data>/wal/ segments · <data>/snapshots/ · <data>/LOCK (pid)
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { resolve, join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createOriginApp } from '../http/app.ts';
import { EVENT_LOOP_LAG_METRIC, SYNC_WELCOMES_METRIC, WAL_FSYNC_METRIC, WRITE_COMMIT_METRIC, WRITE_QUEUED_METRIC } from '../http/origin-metrics.ts';
import { trackEventLoopLag } from '../metrics/event-loop-lag.ts';
import { MetricsRegistry } from '../metrics/registry.ts';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { PEER_PATH } from '../cluster/peer-transport.ts';
import { RaftNode } from '../cluster/raft-node.ts';
import { LocalNode } from '../node/local-node.ts';
import { SyncEndpoint } from '../sync/sync-endpoint.ts';
import type { MemberInfo } from '../node/origin-node.ts';
import { CachedKvStorage } from '../storage/cached-storage.ts';
import { LmdbKvStorage } from '../storage/lmdb-storage.ts';
import { WriteAheadLog } from '../wal/wal.ts';
import { WalCorruptError } from '../wal/errors.ts';
import { NeuroplexError } from '../../../core/src/errors.ts';
import { CliError, ExitCode, int, noExtraPositionals, parse, str } from './args.ts';
import { HELP } from './help.ts';
import { CLIENT_PATH, ClientProtocolServer } from '../client/client-server.ts';
import type { Output } from './kv.ts';

export function parseListen(raw: string): { host: string; port: number } {
  const at = raw.lastIndexOf(':');
  const host = raw.slice(0, at);
  const port = raw.slice(at + 1);
  if (at <= 0 || !/^\d{1,5}$/.test(port) || Number(port) > 65535 || !/^[A-Za-z0-9.\-]+$/.test(host)) {
    throw new CliError(`start: --listen must be host:port (e.g. 127.0.0.1:7101), got ${JSON.stringify(raw)}`, ExitCode.Usage);
  }
  return { host, port: Number(port) };
}

/** Creates or checks the data directory; every problem is a one-line CliError. */
export function prepareDataDir(raw: string): string {
  const dir = resolve(raw);
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new CliError(`start: data directory ${dir} exists and is not a directory`);
  try {
    for (const sub of ['', 'state', 'wal', 'snapshots']) mkdirSync(join(dir, sub), { recursive: true });
    accessSync(dir, constants.W_OK | constants.R_OK);
  } catch (cause) {
    throw new CliError(`start: data directory ${dir} is not usable: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`);
  }
  const lock = join(dir, 'LOCK');
  if (existsSync(lock)) {
    const pid = Number(readFileSync(lock, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
      throw new CliError(`start: data directory ${dir} is in use by process ${pid}`);
    }
  }
  writeFileSync(lock, `${process.pid}\n`);
  return dir;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function runStart(argv: string[], io: Output): Promise<number> {
  const p = parse(
    argv,
    {
      id: { type: 'string' },
      listen: { type: 'string' },
      data: { type: 'string' },
      peers: { type: 'string' },
      'max-value-bytes': { type: 'string' },
      'snapshot-every': { type: 'string' },
      'cache-entries': { type: 'string' },
      'cluster-secret': { type: 'string' },
      'sync-token': { type: 'string' },
      'presence-timeout-ms': { type: 'string' },
    },
    'start',
  );
  if (p.values.help === true) {
    io.out(HELP.start!);
    return ExitCode.Ok;
  }
  noExtraPositionals(p, 0, 'start');
  const id = str(p, 'id') ?? 'n1';
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(id)) throw new CliError('start: --id must be 1-64 characters of A-Z a-z 0-9 _ . -', ExitCode.Usage);
  const listen = parseListen(str(p, 'listen') ?? '127.0.0.1:7101');
  const dataRaw = str(p, 'data');
  if (dataRaw === undefined) throw new CliError('start: --data <dir> is required. See `neuroplex start --help`.', ExitCode.Usage);
  const maxValueBytes = int(p, 'max-value-bytes', 'start', 1, 64 * 1024 * 1024);
  const snapshotEveryEntries = int(p, 'snapshot-every', 'start', 1);
  const cacheEntries = int(p, 'cache-entries', 'start', 1);
  const peers = parsePeers(str(p, 'peers'));
  const secret = str(p, 'cluster-secret') ?? process.env.NEUROPLEX_CLUSTER_SECRET;
  if (peers.length > 0 && (secret === undefined || secret.length < 16)) {
    throw new CliError('start: a cluster member needs a cluster secret of at least 16 characters (--cluster-secret or $NEUROPLEX_CLUSTER_SECRET)', ExitCode.Usage);
  }
  if (peers.some((x) => x.id === id)) throw new CliError(`start: --peers lists this node's own id ${id}`, ExitCode.Usage);
  const dir = prepareDataDir(dataRaw);

  const registry = new MetricsRegistry();
  const fsync = registry.histogram(WAL_FSYNC_METRIC, 'WAL fdatasync latency in milliseconds.');
  const writeQueued = registry.histogram(WRITE_QUEUED_METRIC, 'Milliseconds a write this node took waited for the Raft loop to propose it.');
  const writeCommit = registry.histogram(WRITE_COMMIT_METRIC, 'Milliseconds from proposing a write to its answer: replication, fdatasync on a quorum, apply.');
  trackEventLoopLag(registry.histogram(EVENT_LOOP_LAG_METRIC, 'Milliseconds a 10 ms timer ran late: turns that held the event loop.'));
  let wal: WriteAheadLog;
  try {
    wal = await WriteAheadLog.open(join(dir, 'wal'), { onSync: (s) => fsync.observe(s.durationMs) });
  } catch (cause) {
    rmSync(join(dir, 'LOCK'), { force: true });
    if (cause instanceof WalCorruptError) throw new CliError(`start: refusing to start: ${cause.message}`);
    throw cause;
  }
  if (wal.report.truncatedTail !== undefined) {
    const t = wal.report.truncatedTail;
    io.out(`recovered: cut a torn WAL tail in ${t.file} at byte ${t.offset} (${t.droppedBytes} bytes, ${t.reason})`);
  }
  const engine = new LmdbKvStorage({ path: join(dir, 'state') });
  const url = `http://${listen.host}:${listen.port}`;
  const storage = new CachedKvStorage(engine, cacheEntries === undefined ? {} : { capacity: cacheEntries });
  let node: LocalNode | RaftNode;
  try {
    node = peers.length > 0
      ? await RaftNode.open({
          self: { id, url, learner: false },
          initialMembers: [{ id, url, learner: false }, ...peers],
          wal,
          storage,
          clusterSecret: secret!,
          snapshotDir: join(dir, 'snapshots'),
          onWriteStages: (queuedMs, commitMs) => {
            writeQueued.observe(queuedMs);
            writeCommit.observe(commitMs);
          },
          ...(maxValueBytes === undefined ? {} : { maxValueBytes }),
          ...(snapshotEveryEntries === undefined ? {} : { snapshotEveryEntries }),
        })
      : await LocalNode.open({
      id,
      url,
      storage,
      wal,
      snapshotDir: join(dir, 'snapshots'),
      ...(maxValueBytes === undefined ? {} : { maxValueBytes }),
      ...(snapshotEveryEntries === undefined ? {} : { snapshotEveryEntries }),
    });
  } catch (cause) {
    await wal.close();
    await engine.close();
    rmSync(join(dir, 'LOCK'), { force: true });
    if (cause instanceof NeuroplexError) throw new CliError(`start: refusing to start: ${cause.message}`);
    throw cause;
  }
  const syncToken = str(p, 'sync-token') ?? process.env.NEUROPLEX_SYNC_TOKEN;
  const presenceTimeoutMs = int(p, 'presence-timeout-ms', 'start', 50, 3_600_000);
  const welcomes = registry.counter(SYNC_WELCOMES_METRIC, 'Sync sessions welcomed, by how they were brought up to date (mode: log, snapshot or context); a snapshot sends the whole state.');
  const sync = new SyncEndpoint({
    node,
    onWelcome: (mode) => welcomes.inc(1, { mode }),
    ...(syncToken === undefined || syncToken === '' ? {} : { token: syncToken }),
    ...(presenceTimeoutMs === undefined ? {} : { presenceTimeoutMs }),
  });
  const { app } = createOriginApp({ node, metrics: registry, ...(maxValueBytes === undefined ? {} : { maxValueBytes }) });

  const server = await new Promise<ReturnType<typeof serve>>((resolvePromise, reject) => {
    const s = serve({ fetch: app.fetch, hostname: listen.host, port: listen.port }, () => resolvePromise(s));
    s.once('error', (e: NodeJS.ErrnoException) => reject(new CliError(`start: cannot listen on ${listen.host}:${listen.port}: ${e.code ?? e.message}`)));
  }).catch(async (e: unknown) => {
    await closeNode(node, wal);
    await engine.close();
    rmSync(join(dir, 'LOCK'), { force: true });
    throw e;
  });
  const port = (server.address() as AddressInfo).port;
  if (node instanceof LocalNode) node.url = `http://${listen.host}:${port}`;
  const clients = new ClientProtocolServer({ node, ...(maxValueBytes === undefined ? {} : { maxValueBytes }) });
  const raftNode = node instanceof RaftNode ? node : null;
  if (raftNode !== null) {
    registerLoopCounters(registry, raftNode);
    // Presence travels between origin nodes as ephemeral peer frames, never through Raft.
    const presence = sync.sync.presence;
    raftNode.transport.onEphemeral = (from, frame) => presence.fromNode(from, frame);
    presence.relay = (frame) => raftNode.transport.broadcastEphemeral(frame);
  }
  // Peer links, binary-protocol clients and sync clients arrive as WebSocket upgrades on
  // the same port.
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (req.url === CLIENT_PATH) clients.handleUpgrade(req, socket, head);
    else if (req.url === PEER_PATH && raftNode !== null) raftNode.transport.handleUpgrade(req, socket, head);
    else if (SyncEndpoint.matches(req)) sync.handleUpgrade(req, socket, head);
    else socket.destroy();
  });
  const applied = node instanceof LocalNode ? node.appliedIndex : node.stateMachine.appliedIndex;
  const role = peers.length > 0 ? `member of a ${peers.length + 1}-node cluster` : 'single node';
  io.out(`neuroplex node ${id} listening on http://${listen.host}:${port} (${role}, data: ${dir}, applied index ${applied})`);

  await new Promise<void>((resolveStop) => {
    const stop = () => resolveStop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  io.out(`neuroplex node ${id} stopping`);
  // Stop the node first: its peer links are upgraded sockets the HTTP server would wait on.
  sync.close();
  if (node instanceof RaftNode) node.stop('shutting down');
  clients.close();
  const closed = new Promise<void>((r) => server.close(() => r()));
  (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
  await closed;
  await closeNode(node, wal);
  await engine.close();
  rmSync(join(dir, 'LOCK'), { force: true });
  return ExitCode.Ok;
}

/** The Raft loop's work counters (RaftNode.loopStats): how well writes are batched. */
function registerLoopCounters(registry: MetricsRegistry, node: RaftNode): void {
  const counters: [string, string, (s: ReturnType<RaftNode['loopStats']>) => number][] = [
    ['neuroplex_raft_readies_total', 'Raft Readys the loop took (each one WAL write, one apply batch at most, one frame per peer at most).', (s) => s.readies],
    ['neuroplex_apply_batches_total', 'Batches of committed commands applied to the state machine (one storage transaction each).', (s) => s.applyBatches],
    ['neuroplex_peer_frames_sent_total', 'WebSocket frames sent to other members (each holds one or more Raft messages).', (s) => s.peerFramesSent],
    ['neuroplex_peer_frames_received_total', 'WebSocket frames of Raft messages received from other members.', (s) => s.peerFramesReceived],
    ['neuroplex_peer_messages_sent_total', 'Raft messages sent to other members.', (s) => s.peerMessagesSent],
    ['neuroplex_peer_messages_received_total', 'Raft messages received from other members.', (s) => s.peerMessagesReceived],
  ];
  for (const [name, help, pick] of counters) registry.counter(name, help, () => pick(node.loopStats()));
}

/** `n2=127.0.0.1:7102,n3=127.0.0.1:7103` → members (each reached over http). */
export function parsePeers(raw: string | undefined): MemberInfo[] {
  if (raw === undefined || raw.trim() === '') return [];
  const out: MemberInfo[] = [];
  for (const part of raw.split(',')) {
    const eq = part.indexOf('=');
    const id = part.slice(0, eq).trim();
    if (eq <= 0 || !/^[A-Za-z0-9_.-]{1,64}$/.test(id)) {
      throw new CliError(`start: --peers entries must be id=host:port, got ${JSON.stringify(part)}`, ExitCode.Usage);
    }
    const { host, port } = parseListen(part.slice(eq + 1).trim());
    if (out.some((m) => m.id === id)) throw new CliError(`start: --peers lists ${id} twice`, ExitCode.Usage);
    out.push({ id, url: `http://${host}:${port}`, learner: false });
  }
  return out;
}

async function closeNode(node: LocalNode | RaftNode, wal: WriteAheadLog): Promise<void> {
  if (node instanceof LocalNode) return node.close();
  node.stop('shutting down');
  await wal.close();
}
