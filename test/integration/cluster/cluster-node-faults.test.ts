// Real processes: garbage and wrong-secret dials on the peer port are closed and the node
// keeps serving; a cluster member with a torn WAL tail recovers and catches up, one with a
// corrupt record in the middle of its WAL refuses to start, naming the file and byte offset.
import { readdirSync, readFileSync, appendFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { Prng } from '../../../core/src/testing/prng.ts';
import { FRAME_HEADER_BYTES } from '../../../server/src/wal/record.ts';
import { parseSegmentName, scanSegment } from '../../../server/src/wal/segment.ts';
import { agreedLeader, api, createProcCluster, destroyProcCluster, type ProcCluster, startNode, stopNode, until } from '../../support/process-cluster.ts';

let c: ProcCluster | undefined;
afterEach(async () => {
  await destroyProcCluster(c);
  c = undefined;
});

const SEED = 0x5eed_0006;

function garbage(prng: Prng, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(prng.next() * 256);
  return b;
}

/** Opens a TCP connection, writes `first`, then `after` once `ready` says so; resolves when the server closes it. */
async function dialUntilClosed(port: number, first: Buffer, after: Buffer | null, ready: (got: string) => boolean): Promise<boolean> {
  return await new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    let sent = false;
    const timer = setTimeout(() => {
      s.destroy();
      resolve(false);
    }, 5_000);
    s.on('connect', () => s.write(first));
    s.on('data', (d) => {
      got += d.toString('latin1');
      if (after !== null && !sent && ready(got)) {
        sent = true;
        s.write(after);
      }
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

it('garbage and wrong-secret dials on the peer socket are closed; the node keeps serving', { timeout: 60_000 }, async () => {
  c = await createProcCluster(3);
  const cl = c;
  const leader = await until(() => agreedLeader(cl), 'a leader');
  const prng = new Prng(SEED);
  const target = cl.nodes.find((n) => n !== leader)!;
  try {
    // Not HTTP at all.
    expect(await dialUntilClosed(target.port, garbage(prng, 512), null, () => false)).toBe(true);
    // A WebSocket upgrade on the peer path, then bytes that are not WebSocket frames.
    const upgrade = Buffer.from(
      'GET /v1/raft HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    expect(await dialUntilClosed(target.port, upgrade, garbage(prng, 4096), (got) => got.includes('\r\n\r\n'))).toBe(true);
    // A well-formed dial with a wrong secret: policy close (1008).
    const ws = new WebSocket(`ws://127.0.0.1:${target.port}/v1/raft`);
    const code = await new Promise<number>((resolve) => {
      const timer = setTimeout(() => resolve(-1), 5_000);
      ws.on('message', () => ws.send(Buffer.concat([Buffer.from([2, 2]), Buffer.from('n9'), garbage(prng, 32)])));
      ws.on('error', () => undefined);
      ws.on('close', (cc) => {
        clearTimeout(timer);
        resolve(cc);
      });
    });
    expect(code).toBe(1008);
    // Still a member in good standing: it serves writes and reads, and the leader is unchanged.
    expect((await api(target, 'PUT', '/v1/kv/after-garbage', { value: 1 })).status).toBe(200);
    expect((await api(target, 'GET', '/v1/kv/after-garbage?consistency=strong')).json.value).toBe(1);
    expect((await agreedLeader(cl))?.id).toBe(leader.id);
  } catch (e) {
    console.error(`seed ${SEED}`);
    throw e;
  }
});

function lastSegment(dir: string): string {
  const names = readdirSync(join(dir, 'wal')).filter((n) => parseSegmentName(n) !== undefined).sort();
  return join(dir, 'wal', names[names.length - 1]!);
}

it('a member with a torn WAL tail recovers and catches up; a corrupt middle refuses with file and offset', { timeout: 60_000 }, async () => {
  c = await createProcCluster(3);
  const cl = c;
  const leader = await until(() => agreedLeader(cl), 'a leader');
  for (let i = 0; i < 20; i++) expect((await api(leader, 'PUT', `/v1/kv/w${i}`, { value: i })).status).toBe(200);
  const victim = cl.nodes.find((n) => n !== leader)!;
  await until(async () => ((await api(victim, 'GET', '/v1/kv/w19')).status === 200 ? true : undefined), 'the victim to apply w19');
  await stopNode(cl, victim, 'SIGKILL');
  for (let i = 20; i < 30; i++) expect((await api(leader, 'PUT', `/v1/kv/w${i}`, { value: i })).status).toBe(200);

  // A torn tail: half a record's worth of junk after the last whole record.
  appendFileSync(lastSegment(victim.dir), garbage(new Prng(SEED), 37));
  await startNode(cl, victim);
  expect(victim.stdout).toMatch(/recovered: cut a torn WAL tail in wal-[0-9a-f]+\.log at byte \d+/);
  await until(async () => ((await api(victim, 'GET', '/v1/kv/w29?consistency=strong')).json?.value === 29 ? true : undefined), 'the victim to catch up');

  // A corrupt record in the middle: flip one payload byte of a record that has valid ones after it.
  await stopNode(cl, victim, 'SIGINT');
  const file = lastSegment(victim.dir);
  const bytes = readFileSync(file);
  const name = file.slice(file.lastIndexOf('/') + 1);
  const { records } = scanSegment(new Uint8Array(bytes), name, parseSegmentName(name)!, true);
  expect(records.length).toBeGreaterThan(10);
  const at = records[Math.floor(records.length / 2)]!.offset;
  bytes[at + FRAME_HEADER_BYTES + 1]! ^= 0xff;
  writeFileSync(file, bytes);
  const refused = await startNode(cl, victim).then(
    () => null,
    (e: Error) => e.message,
  );
  expect(refused).toContain(`write-ahead log corrupt in ${name} at byte ${at}`);
  // The other two still form a quorum.
  expect((await api(leader, 'PUT', '/v1/kv/still', { value: true })).status).toBe(200);
});
