// The binary client protocol against a real three-node cluster on loopback: the client finds
// the leader from any node, keeps thousands of requests in flight on one connection (answered
// by id), gets typed errors, survives bad frames, and follows the leader when it changes.
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ClientOp, decodeResponse, encodeRequest, ResponseKind } from '../../../core/src/client/frames.ts';
import { BinaryClient, ClientError } from '../../../server/src/client/binary-client.ts';
import { CLIENT_PATH } from '../../../server/src/client/client-server.ts';
import { type ClusterMember, eventually, leaderOf, startCluster, stopCluster, stopMember } from '../../support/raft-cluster.ts';

let cluster: ClusterMember[] = [];
let client: BinaryClient | undefined;
afterEach(async () => {
  client?.close();
  client = undefined;
  await stopCluster(cluster);
  cluster = [];
});

describe('binary client protocol', () => {
  it('pipelines thousands of writes on one connection to the leader, found from a follower', { timeout: 30_000 }, async () => {
    cluster = await startCluster(3);
    const leader = await eventually(() => leaderOf(cluster), 'a leader');
    const follower = cluster.find((m) => m !== leader)!;
    client = new BinaryClient({ urls: [follower.info.url] });
    expect(await client.connectedUrl()).toBe(leader.info.url);
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < 3_000; i++) writes.push(client.put('default', `p${i % 500}`, i));
    const results = (await Promise.all(writes)) as { status: string; version: number }[];
    expect(results.every((r) => r.status === 'ok')).toBe(true);
    // Answers were matched to their requests: versions grow with request order per key.
    for (let k = 0; k < 500; k++) expect(results[k + 500]!.version).toBeGreaterThan(results[k]!.version);
    expect((await client.read('default', 'p499'))?.value).toBe(2_999);
    expect(await client.read('default', 'missing')).toBeUndefined();
    expect(client.connects).toBe(1);
  });

  it('answers a bad body with a typed error on the same connection and closes on an unreadable frame', { timeout: 30_000 }, async () => {
    cluster = await startCluster(1);
    await eventually(() => leaderOf(cluster), 'a leader');
    const ws = new WebSocket(`${cluster[0]!.info.url.replace('http', 'ws')}${CLIENT_PATH}`);
    await new Promise((r) => ws.once('open', r));
    const answers: ReturnType<typeof decodeResponse>[] = [];
    ws.on('message', (d: Buffer) => answers.push(decodeResponse(new Uint8Array(d))));
    ws.send(new Uint8Array([1, ClientOp.Propose, 5, 0xff])); // id 5, truncated body
    ws.send(encodeRequest({ op: ClientOp.Read, id: 6, consistency: 'eventual', ks: 'default', key: 'x', minVersion: 0, timeoutMs: 1_000 }));
    await eventually(() => (answers.length === 2 ? true : undefined), 'two answers');
    const byId = new Map(answers.map((a) => [a.id, a]));
    expect(byId.get(5)).toMatchObject({ kind: ResponseKind.Error, code: expect.stringMatching(/^DECODE_/) });
    expect(byId.get(6)).toMatchObject({ kind: ResponseKind.Entry, entry: undefined });
    const code = await new Promise<number>((resolve) => {
      ws.once('close', (c) => resolve(c));
      ws.send(new Uint8Array([9])); // not even a header
    });
    expect(code).toBe(1003);
    // The client validates a command before sending it (the same codec as the node).
    client = new BinaryClient({ urls: [cluster[0]!.info.url] });
    const err = await client.propose({ type: 'counter', ks: 'default', key: 'c', by: 'x' } as never).then(() => null, (e: unknown) => e);
    expect((err as { code?: string } | null)?.code).toBe('COMMAND_INVALID');
  });

  it('follows the leader when it changes', { timeout: 30_000 }, async () => {
    cluster = await startCluster(3);
    const first = await eventually(() => leaderOf(cluster), 'a leader');
    client = new BinaryClient({ urls: cluster.map((m) => m.info.url), timeoutMs: 1_000 });
    await client.put('default', 'before', 1);
    expect(await client.connectedUrl()).toBe(first.info.url);
    await stopMember(first);
    // Requests fail while the cluster elects; a bounded retry loop reaches the new leader.
    let done = false;
    const codes = new Set<string>();
    for (let attempt = 0; attempt < 100 && !done; attempt++) {
      try {
        await client.put('default', 'after', 2);
        done = true;
      } catch (e) {
        expect(e).toBeInstanceOf(ClientError);
        codes.add((e as ClientError).code);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    expect(done).toBe(true);
    // Typed errors only: the lost connection, then no leader until the election ends.
    for (const c of codes) expect(['CONNECTION_CLOSED', 'NO_LEADER', 'NO_QUORUM', 'NO_NODE_REACHABLE', 'TIMEOUT', 'CLIENT_TIMEOUT']).toContain(c);
    const second = await eventually(() => leaderOf(cluster.filter((m) => m !== first)), 'a new leader');
    // If it settled on a follower during the election, it moves to the leader within a second or so.
    for (let i = 0; i < 40 && (await client.connectedUrl()) !== second.info.url; i++) {
      await client.read('default', 'after', 'eventual');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await client.connectedUrl()).toBe(second.info.url);
    expect((await client.read('default', 'before'))?.value).toBe(1);
    expect((await client.read('default', 'after'))?.value).toBe(2);
    expect(client.connects).toBeGreaterThanOrEqual(2);
  });
});
