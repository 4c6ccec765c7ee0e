// The binary protocol server bounds the requests in flight per connection: past the bound a
// request is answered TOO_MANY_IN_FLIGHT at once, and every answered request (result or
// error) frees its slot again.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ClientOp, decodeResponse, encodeRequest, type ClientResponse, ResponseKind } from '../../../core/src/client/frames.ts';
import type { KvResult } from '../../../core/src/kv/commands.ts';
import { CLIENT_PATH, ClientProtocolServer } from '../../../server/src/client/client-server.ts';
import type { OriginNode } from '../../../server/src/node/origin-node.ts';

const closers: (() => void)[] = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});

describe('ClientProtocolServer in-flight bound', () => {
  it('answers TOO_MANY_IN_FLIGHT past the bound and frees a slot per answer', async () => {
    const held: { resolve: (r: KvResult) => void; reject: (e: unknown) => void }[] = [];
    const node = {
      propose: () => new Promise<KvResult>((resolve, reject) => held.push({ resolve, reject })),
    } as unknown as OriginNode;
    const clients = new ClientProtocolServer({ node, maxInFlight: 2 });
    const server = createServer();
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => clients.handleUpgrade(req, socket, head));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const ws = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}${CLIENT_PATH}`);
    closers.push(() => {
      ws.terminate();
      clients.close();
      server.close();
    });
    await new Promise<void>((r, j) => {
      ws.once('open', () => r());
      ws.once('error', j);
    });
    const answers: ClientResponse[] = [];
    ws.on('message', (d: Buffer) => answers.push(decodeResponse(new Uint8Array(d))));
    const put = (id: number) => ws.send(encodeRequest({ op: ClientOp.Propose, id, timeoutMs: 1_000, command: { type: 'put', ks: 'app', key: `k${id}`, value: id } }));
    const until = async (n: number) => {
      // Bounded: 200 turns of 5 ms.
      for (let i = 0; i < 200 && answers.length < n; i++) await new Promise((r) => setTimeout(r, 5));
      expect(answers.length).toBe(n);
    };
    put(1);
    put(2);
    put(3);
    await until(1);
    expect(answers[0]).toMatchObject({ kind: ResponseKind.Error, id: 3, code: 'TOO_MANY_IN_FLIGHT' });
    held[0]!.resolve({ status: 'ok', version: 7 });
    held[1]!.reject(new Error('boom'));
    await until(3);
    expect(answers[1]).toMatchObject({ kind: ResponseKind.Result, id: 1, result: { status: 'ok', version: 7 } });
    expect(answers[2]).toMatchObject({ kind: ResponseKind.Error, id: 2, code: 'INTERNAL', message: 'boom' });
    // Both slots are free again.
    put(4);
    put(5);
    await new Promise((r) => setTimeout(r, 50));
    expect(answers).toHaveLength(3);
    expect(held).toHaveLength(4);
  });
});
