// A stand-in for the origin's /v1/sync in tests: a Node `ws` server on 127.0.0.1 running
// the core ServerSyncSession over sync-harness's ServerHost (replica + MemoryKeyspaceLog),
// one Multiplexer per socket. It can be stopped (sockets dropped) and started again on the
// same port with the same state, as an origin outage.
import { createServer, type Server } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { RefuseReason } from '../../core/src/sync/errors.ts';
import { Multiplexer } from '../../core/src/sync/multiplexer.ts';
import type { ServerSyncSession } from '../../core/src/sync/server-session.ts';
import { ServerHost } from './sync-harness.ts';

interface Conn {
  readonly mux: Multiplexer;
  readonly sessions: ServerSyncSession[];
}

export class OriginStub {
  readonly hosts: ServerHost[];
  private http: Server | undefined = undefined;
  private wss: WebSocketServer | undefined = undefined;
  private readonly conns = new Map<WebSocket, Conn>();
  /** Sockets accepted so far (edges connecting and reconnecting). */
  connections = 0;
  /** Sees every frame as it comes off a socket, before it is decoded (the edge benchmark stamps them). */
  onFrame: ((frame: Uint8Array) => void) | undefined = undefined;

  constructor(keyspaces: readonly string[]) {
    this.hosts = keyspaces.map((ks, i) => new ServerHost(900 + i, ks, `origin-${ks}`));
  }

  host(keyspace: string): ServerHost {
    return this.hosts.find((h) => h.replica.keyspace === keyspace)!;
  }

  async start(port = 0): Promise<number> {
    const http = createServer((_req, res) => {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":{"code":"NOT_FOUND","message":"stub"}}');
    });
    const wss = new WebSocketServer({ server: http, path: '/v1/sync' });
    wss.on('connection', (ws) => this.accept(ws));
    await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', () => resolve()));
    this.http = http;
    this.wss = wss;
    return (http.address() as { port: number }).port;
  }

  /** Drops every socket and stops listening (an origin outage). */
  async stop(): Promise<void> {
    for (const ws of this.conns.keys()) ws.terminate();
    for (const [, c] of this.conns) for (const h of this.hosts) h.forget(c.sessions);
    this.conns.clear();
    await new Promise<void>((r) => (this.wss === undefined ? r() : this.wss.close(() => r())));
    await new Promise<void>((r) => (this.http === undefined ? r() : this.http.close(() => r())));
    this.http = undefined;
    this.wss = undefined;
  }

  private accept(ws: WebSocket): void {
    this.connections++;
    const sessions: ServerSyncSession[] = [];
    const mux = new Multiplexer({
      accept: (hello) => {
        const host = this.hosts.find((h) => h.replica.keyspace === hello.keyspace);
        if (host === undefined) return RefuseReason.UnknownKeyspace;
        const s = host.accept(hello);
        sessions.push(s);
        return s;
      },
    });
    this.conns.set(ws, { mux, sessions });
    ws.on('message', (data: Buffer) => {
      const frame = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      this.onFrame?.(frame);
      mux.receive(frame);
      this.run();
    });
    ws.on('close', () => {
      for (const h of this.hosts) h.forget(sessions);
      this.conns.delete(ws);
    });
  }

  /** Commits what arrived, streams, and flushes every socket. */
  run(): void {
    for (let round = 0; round < 100; round++) if (this.hosts.reduce((n, h) => n + h.drain(), 0) === 0) break;
    for (const [ws, c] of this.conns) for (const f of c.mux.takeFrames()) ws.send(f);
  }
}
