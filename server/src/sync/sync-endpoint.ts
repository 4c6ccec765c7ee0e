// GET /v1/sync as a WebSocket upgrade: each socket is one OriginConnection (a multiplexer of
// sync sessions). Binary frames only; a text frame or a protocol error ends the socket.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { SyncMode } from '../../../core/src/sync/messages.ts';
import type { Authorize } from '../../../core/src/sync/server-session.ts';
import { OriginSync, type SyncCommitter } from './origin-sync.ts';

export const SYNC_PATH = '/v1/sync';

export interface SyncEndpointOptions {
  readonly node: SyncCommitter;
  /** When set, every channel's hello must carry this token. */
  readonly token?: string;
  /** A custom check instead (takes precedence over `token`). */
  readonly authorize?: Authorize;
  readonly maxFrameBytes?: number;
  /** Drop a present peer not heard from for this long (default 30 s). */
  readonly presenceTimeoutMs?: number;
  /** Told of each session welcomed, with its sync mode (for metrics). */
  readonly onWelcome?: (mode: SyncMode) => void;
}

export class SyncEndpoint {
  readonly sync: OriginSync;
  private readonly wss: WebSocketServer;
  private readonly sockets = new Set<WebSocket>();

  constructor(options: SyncEndpointOptions) {
    const token = options.token;
    const authorize = options.authorize ?? (token === undefined ? undefined : (t: string) => t === token);
    this.sync = new OriginSync({
      node: options.node,
      ...(authorize === undefined ? {} : { authorize }),
      ...(options.presenceTimeoutMs === undefined ? {} : { presenceTimeoutMs: options.presenceTimeoutMs }),
      ...(options.onWelcome === undefined ? {} : { onWelcome: options.onWelcome }),
    });
    this.wss = new WebSocketServer({ noServer: true, maxPayload: options.maxFrameBytes ?? 64 * 1024 * 1024 });
  }

  /** True when the request is for this endpoint (path /v1/sync, any query). */
  static matches(req: IncomingMessage): boolean {
    const url = req.url ?? '';
    return url === SYNC_PATH || url.startsWith(`${SYNC_PATH}?`);
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
  }

  private accept(ws: WebSocket): void {
    this.sockets.add(ws);
    const conn = this.sync.open({
      send: (frame) => {
        if (ws.readyState === WebSocket.OPEN) ws.send(frame);
      },
      close: (reason) => ws.close(1011, reason.slice(0, 120)),
    });
    ws.on('message', (data, isBinary) => {
      if (!isBinary) return conn.end('text frames are not part of the sync protocol');
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      conn.receive(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
    });
    ws.on('close', () => {
      this.sockets.delete(ws);
      conn.closed();
    });
    ws.on('error', () => ws.terminate());
  }

  /** Closes every socket and stops serving. */
  close(): void {
    this.sync.close();
    for (const ws of this.sockets) ws.terminate();
    this.sockets.clear();
    this.wss.close();
  }
}
