// `neuroplex start`: one origin node (LocalNode over LMDB + ARC cache + WAL + snapshots)
// serving the Origin HTTP API until SIGINT/SIGTERM. Data directory layout:
//   <data>/state/ LMDB · <data>/wal/ segments · <data>/snapshots/ · <data>/LOCK (pid)
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { resolve, join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createOriginApp } from '../http/app.ts';
import { WAL_FSYNC_METRIC } from '../http/origin-metrics.ts';
import { MetricsRegistry } from '../metrics/registry.ts';
import { LocalNode } from '../node/local-node.ts';
import { CachedKvStorage } from '../storage/cached-storage.ts';
import { LmdbKvStorage } from '../storage/lmdb-storage.ts';
import { WriteAheadLog } from '../wal/wal.ts';
import { WalCorruptError } from '../wal/errors.ts';
import { NeuroplexError } from '../../../core/src/errors.ts';
import { CliError, ExitCode, int, noExtraPositionals, parse, str } from './args.ts';
import { HELP } from './help.ts';
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
  const peers = str(p, 'peers');
  if (peers !== undefined && peers.trim() !== '') {
    throw new CliError('start: --peers needs the Raft driver, which this build does not include yet; start without --peers for a single node');
  }
  const dir = prepareDataDir(dataRaw);

  const registry = new MetricsRegistry();
  const fsync = registry.histogram(WAL_FSYNC_METRIC, 'WAL fdatasync latency in milliseconds.');
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
  let node: LocalNode;
  try {
    node = await LocalNode.open({
      id,
      url,
      storage: new CachedKvStorage(engine, cacheEntries === undefined ? {} : { capacity: cacheEntries }),
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
  const { app } = createOriginApp({ node, metrics: registry, ...(maxValueBytes === undefined ? {} : { maxValueBytes }) });

  const server = await new Promise<ReturnType<typeof serve>>((resolvePromise, reject) => {
    const s = serve({ fetch: app.fetch, hostname: listen.host, port: listen.port }, () => resolvePromise(s));
    s.once('error', (e: NodeJS.ErrnoException) => reject(new CliError(`start: cannot listen on ${listen.host}:${listen.port}: ${e.code ?? e.message}`)));
  }).catch(async (e: unknown) => {
    await node.close();
    await engine.close();
    rmSync(join(dir, 'LOCK'), { force: true });
    throw e;
  });
  const port = (server.address() as AddressInfo).port;
  node.url = `http://${listen.host}:${port}`;
  io.out(`neuroplex node ${id} listening on http://${listen.host}:${port} (data: ${dir}, applied index ${node.appliedIndex})`);

  await new Promise<void>((resolveStop) => {
    const stop = () => resolveStop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  io.out(`neuroplex node ${id} stopping`);
  const closed = new Promise<void>((r) => server.close(() => r()));
  (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
  await closed;
  await node.close();
  await engine.close();
  rmSync(join(dir, 'LOCK'), { force: true });
  return ExitCode.Ok;
}
