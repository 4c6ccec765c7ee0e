// Clients of several keyspaces in one page (here, one process) share one sync socket per
// origin URL, each keyspace on its own channel with its own handshake and token: one
// socket for all; a keyspace going offline or refused leaves the others syncing; a cut
// socket brings every keyspace back; the socket closes with its last client.
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { NeuroplexClient } from '../../../browser/src/client.ts';
import type { WebSocketConstructor } from '../../../browser/src/transport.ts';
import { recordingWebSocket } from '../../support/recording-websocket.ts';
import { startOrigin, type TestOrigin, waitFor } from '../../support/sync-origin.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

async function origin(token?: string): Promise<TestOrigin> {
  const o = await startOrigin(token === undefined ? {} : { token });
  cleanups.push(() => o.stop());
  return o;
}

async function client(url: string, keyspace: string, WS: WebSocketConstructor, token?: string): Promise<NeuroplexClient> {
  const c = await NeuroplexClient.connect({ url, keyspace, WebSocket: WS, backoff: { initialMs: 20, maxMs: 200 }, networkEvents: null, ...(token === undefined ? {} : { token }), onError: () => {} });
  cleanups.push(() => c.close());
  return c;
}

const open = (sockets: readonly WebSocket[]): number => sockets.filter((s) => s.readyState === WebSocket.OPEN || s.readyState === WebSocket.CONNECTING).length;

describe('one socket for many keyspaces', () => {
  it('keyspaces share a socket; one going offline leaves the others syncing; a cut socket brings all back', async () => {
    const o = await origin();
    const page = recordingWebSocket();
    const [a, b, c] = [await client(o.syncUrl, 'doc-a', page.WS), await client(o.syncUrl, 'doc-b', page.WS), await client(o.syncUrl, 'doc-c', page.WS)];
    await waitFor(() => [a, b, c].every((x) => x.status === 'synced'), 'all synced');
    expect(page.sockets.length).toBe(1);

    // Another page (its own socket) sees each keyspace's changes.
    const other = recordingWebSocket();
    const [a2, c2] = [await client(o.syncUrl, 'doc-a', other.WS), await client(o.syncUrl, 'doc-c', other.WS)];
    await a.set('title', 'A');
    await b.counter.increment('n', 2);
    await c.set('title', 'C');
    await waitFor(() => a2.replica.get('title') === 'A' && c2.replica.get('title') === 'C', 'changes reach the other page');
    expect(o.node.stateMachine.crdtKeyspace('doc-b')!.replica.counter('n').value).toBe(2);
    expect(a2.replica.get('title')).toBe('A'); // no keyspace sees another's keys
    expect(a.replica.keys()).toEqual(['title']);

    // One keyspace offline: its session ends, the socket stays for the others.
    b.goOffline();
    await c.set('title', 'C again');
    await waitFor(() => c2.replica.get('title') === 'C again', 'c still syncs');
    expect(open(page.sockets)).toBe(1);
    await b.counter.increment('n', 1);
    b.goOnline();
    await b.flushed();
    expect(page.sockets.length).toBe(1);
    expect(o.node.stateMachine.crdtKeyspace('doc-b')!.replica.counter('n').value).toBe(3);

    // The socket is cut: every keyspace reconnects, on one new socket.
    a.disconnectForTest();
    await waitFor(() => [a, b, c].every((x) => x.status === 'synced'), 'all synced again');
    await a.set('title', 'A again');
    await waitFor(() => a2.replica.get('title') === 'A again', 'a syncs after the cut');
    expect(page.sockets.length).toBe(2);
    expect(open(page.sockets)).toBe(1);

    // The socket closes with its last client.
    for (const x of [a, b, c]) await x.close();
    await waitFor(() => open(page.sockets) === 0, 'the socket closed');
  });

  it('a keyspace refused for its token does not disturb the others on the socket', async () => {
    const o = await origin('right');
    const page = recordingWebSocket();
    const good = await client(o.syncUrl, 'doc-a', page.WS, 'right');
    const bad = await client(o.syncUrl, 'doc-b', page.WS, 'wrong');
    await waitFor(() => good.status === 'synced', 'the good one synced');
    await bad.set('x', 1);
    await good.set('x', 1);
    await good.flushed();
    // The refused keyspace keeps retrying on the same socket, never syncing.
    await new Promise((r) => setTimeout(r, 300));
    expect(bad.status).not.toBe('synced');
    expect(bad.unacknowledged).toBe(1);
    expect(o.node.stateMachine.crdtKeyspace('doc-b')).toBeUndefined();
    expect(page.sockets.length).toBe(1);
    expect(good.status).toBe('synced');
    // shareSocket: false opens a socket of its own.
    const own = await NeuroplexClient.connect({ url: o.syncUrl, keyspace: 'doc-c', token: 'right', WebSocket: page.WS, networkEvents: null, shareSocket: false });
    cleanups.push(() => own.close());
    await waitFor(() => own.status === 'synced', 'own socket synced');
    expect(page.sockets.length).toBe(2);
  });
});
