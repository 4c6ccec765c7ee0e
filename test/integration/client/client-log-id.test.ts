// The origin's keyspace is `empty` until its first commit, then takes its real log id. A
// NeuroplexClient that first synced it while empty follows the log to its real id (the
// sync protocol's `log` message), saves that cursor, and after a reconnect on the same
// storage is resumed from it in log mode: sent the tail, not a whole snapshot. Real
// single-node origin on 127.0.0.1; the frames the client receives are decoded to check.
import { afterEach, describe, expect, it } from 'vitest';
import { NeuroplexClient } from '../../../browser/src/client.ts';
import { MemoryStorage } from '../../../browser/src/storage/memory-storage.ts';
import type { WebSocketConstructor } from '../../../browser/src/transport.ts';
import { EMPTY_LOG_ID } from '../../../server/src/sync/committed-keyspace-source.ts';
import { receivingWebSocket } from '../../support/recording-websocket.ts';
import { startOrigin, type TestOrigin, waitFor } from '../../support/sync-origin.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

async function client(o: TestOrigin, WS: WebSocketConstructor, storage = new MemoryStorage()): Promise<NeuroplexClient> {
  const c = await NeuroplexClient.connect({ url: o.syncUrl, keyspace: 'docs', WebSocket: WS, storage, backoff: { initialMs: 20, maxMs: 200 }, networkEvents: null });
  cleanups.push(() => c.close());
  return c;
}

async function storedLogId(storage: MemoryStorage, want: string): Promise<string> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const { logId } = (await storage.load('docs')).cursor;
    if (logId === want || Date.now() > deadline) return logId;
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('a client that first synced an empty keyspace', () => {
  it('follows it to its real log id and is resumed from its cursor by log, not by snapshot', async () => {
    const o = await startOrigin();
    cleanups.push(() => o.stop());
    const storage = new MemoryStorage();
    const first = receivingWebSocket();
    const a = await client(o, first.WS, storage);
    await waitFor(() => a.status === 'synced', 'a synced on the empty keyspace');
    expect(first.received.find((m) => m.type === 'welcome')).toMatchObject({ logId: EMPTY_LOG_ID });

    const b = await client(o, receivingWebSocket().WS);
    await b.set('k1', 1);
    await b.flushed();
    await waitFor(() => a.replica.get('k1') === 1, 'k1 reaches a');
    const realLogId = o.node.stateMachine.crdtKeyspace('docs')!.logId;
    expect(realLogId).not.toBe(EMPTY_LOG_ID);
    expect(first.received.some((m) => m.type === 'log' && m.logId === realLogId)).toBe(true);
    expect(await storedLogId(storage, realLogId)).toBe(realLogId);
    // a's own change: committed, never echoed, its cursor still moves along the real log.
    await a.set('from-a', true);
    await a.flushed();
    await a.close();

    await b.set('k2', 2);
    await b.flushed();
    const second = receivingWebSocket();
    const again = await client(o, second.WS, storage);
    await waitFor(() => again.status === 'synced' && again.replica.get('k2') === 2, 'a back, with k2');
    expect(o.sync.sync.welcomes.snapshot, 'no session of this test was sent a snapshot').toBe(0);
    const welcome = second.received.find((m) => m.type === 'welcome');
    expect(welcome).toMatchObject({ mode: 'log', logId: realLogId });
    expect(second.received.filter((m) => m.type === 'chunk')).toHaveLength(0);
    expect(second.received.filter((m) => m.type === 'delta')).toHaveLength(1);
    expect(again.replica.get('k1')).toBe(1);
    expect(again.replica.get('from-a')).toBe(true);
  });
});
