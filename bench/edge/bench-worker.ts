// The Worker the edge benchmark runs: the real edge (routes and KeyspaceReplicaObject) plus
// /bare, a minimal Durable Object that only rebroadcasts each frame to its other sockets:
// the physical floor of fan-out through workerd, measured in the same wrangler process.
import { app } from '../../edge/src/app.ts';
import type { DurableObjectNamespace, DurableObjectState, HibernatableWebSocket, UpgradeResponseInit, WebSocketPairCtor } from '../../edge/src/cf-types.ts';
import type { EdgeEnv } from '../../edge/src/env.ts';
import { KeyspaceReplicaObject } from '../../edge/src/replica-object.ts';

declare const WebSocketPair: WebSocketPairCtor;

export { KeyspaceReplicaObject };

export class BareBroadcastObject {
  private readonly ctx: DurableObjectState;

  constructor(ctx: DurableObjectState) {
    this.ctx = ctx;
  }

  async fetch(_request: Request): Promise<Response> {
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1]);
    const init: UpgradeResponseInit = { status: 101, webSocket: pair[0] };
    return new Response(null, init);
  }

  async webSocketMessage(ws: HibernatableWebSocket, message: string | ArrayBuffer): Promise<void> {
    for (const other of this.ctx.getWebSockets()) if (other !== ws) other.send(message);
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
