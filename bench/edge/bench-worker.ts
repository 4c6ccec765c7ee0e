// The Worker the edge benchmark runs: the real edge (routes and KeyspaceReplicaObject) plus
// /bare, a minimal Durable Object that only rebroadcasts each frame to its other sockets:
// the physical floor of fan-out through workerd, measured in the same wrangler process.
// With `mode=write` it first writes the frame to a SQLite row, then sends: the gap to the
// bare floor is what workerd's output gate (messages sent after a write held until the
// write is durable) costs, with nothing of ours in it. With `mode=send-first` it sends, then
// writes: the edge's order (it relays a change before writing it).
import { app } from '../../edge/src/app.ts';
import type { DurableObjectNamespace, DurableObjectState, HibernatableWebSocket, UpgradeResponseInit, WebSocketPairCtor } from '../../edge/src/cf-types.ts';
import type { EdgeEnv } from '../../edge/src/env.ts';
import { KeyspaceReplicaObject } from '../../edge/src/replica-object.ts';

declare const WebSocketPair: WebSocketPairCtor;

export { KeyspaceReplicaObject };

export class BareBroadcastObject {
  private readonly ctx: DurableObjectState;
  /** This room's mode (its sockets carry it as a tag); known after the first message. */
  private mode: string | undefined;

  constructor(ctx: DurableObjectState) {
    this.ctx = ctx;
    this.mode = undefined;
  }

  async fetch(request: Request): Promise<Response> {
    const pair = new WebSocketPair();
    const mode = new URL(request.url).searchParams.get('mode') ?? 'plain';
    this.ctx.acceptWebSocket(pair[1], [mode]);
    if (mode !== 'plain') this.ctx.storage.sql.exec('CREATE TABLE IF NOT EXISTS bare_log (n INTEGER PRIMARY KEY AUTOINCREMENT, bytes BLOB NOT NULL)');
    const init: UpgradeResponseInit = { status: 101, webSocket: pair[0] };
    return new Response(null, init);
  }

  async webSocketMessage(ws: HibernatableWebSocket, message: string | ArrayBuffer): Promise<void> {
    this.mode ??= ['write', 'send-first', 'send-later'].find((m) => this.ctx.getWebSockets(m).length > 0) ?? 'plain';
    if (this.mode === 'write') this.ctx.storage.sql.exec('INSERT INTO bare_log (bytes) VALUES (?)', message);
    for (const other of this.ctx.getWebSockets()) if (other !== ws) other.send(message);
    if (this.mode === 'send-first') this.ctx.storage.sql.exec('INSERT INTO bare_log (bytes) VALUES (?)', message);
    if (this.mode === 'send-later') setTimeout(() => this.ctx.storage.sql.exec('INSERT INTO bare_log (bytes) VALUES (?)', message), 0);
  }

  async webSocketClose(ws: HibernatableWebSocket, code: number): Promise<void> {
    ws.close(code === 1005 || code === 1006 ? 1000 : code, 'closed');
  }
}

type BenchEnv = EdgeEnv & { BARE: DurableObjectNamespace };

export default {
  fetch(request: Request, env: BenchEnv, ctx: unknown): Response | Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === '/bare') return env.BARE.get(env.BARE.idFromName(url.searchParams.get('room') ?? 'bare')).fetch(request);
    return app.fetch(request, env, ctx as never);
  },
};
