// The node's side of the binary client protocol (core/src/client/frames.ts) on CLIENT_PATH of
// its HTTP port: every WebSocket binary message is one request, answered by request id as
// soon as it finishes, so a connection carries many requests at once (bounded per connection).
// A frame whose header cannot be read closes the connection (1003); a frame with a readable
// id but a bad body is answered with a DECODE_* error and the connection stays open.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { Writer } from '../../../core/src/codec/writer.ts';
import { ClientOp, type ClientRequest, type ClientResponse, decodeRequest, encodeResponse, peekRequestId, ResponseKind } from '../../../core/src/client/frames.ts';
import { NeuroplexError } from '../../../core/src/errors.ts';
import { DEFAULT_MAX_VALUE_BYTES } from '../../../core/src/kv/limits.ts';
import type { OriginNode } from '../node/origin-node.ts';
import { FrameBatcher } from './frame-batcher.ts';

export const CLIENT_PATH = '/v1/client';
const CLOSE_BAD_DATA = 1003;

export const ClientServerErrorCode = { TooManyInFlight: 'TOO_MANY_IN_FLIGHT', Internal: 'INTERNAL' } as const;

export interface ClientServerOptions {
  readonly node: OriginNode;
  readonly maxValueBytes?: number;
  /** Requests in flight per connection at most; more are answered TOO_MANY_IN_FLIGHT. Default 10,000. */
  readonly maxInFlight?: number;
  /** Largest accepted frame; default 64 MiB. */
  readonly maxFrameBytes?: number;
}

export class ClientProtocolServer {
  private readonly o: ClientServerOptions;
  private readonly wss: WebSocketServer;
  private readonly sockets = new Set<WebSocket>();
  private readonly writer = new Writer(1024);
  private readonly limits: { maxValueBytes: number };
  /** Counters for metrics and tests. */
  readonly stats = { connections: 0, requests: 0, badFrames: 0 };

  constructor(options: ClientServerOptions) {
    this.o = options;
    this.limits = { maxValueBytes: options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES };
    this.wss = new WebSocketServer({ noServer: true, maxPayload: options.maxFrameBytes ?? 64 * 1024 * 1024 });
  }

  /** Hand it the HTTP server's `upgrade` events for CLIENT_PATH. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
  }

  private accept(ws: WebSocket): void {
    this.stats.connections++;
    this.sockets.add(ws);
    const max = this.o.maxInFlight ?? 10_000;
    let inFlight = 0;
    const frames = new FrameBatcher(ws, { masked: false });
    const reply = (res: ClientResponse): void => {
      if (ws.readyState !== WebSocket.OPEN) return;
      frames.send(encodeResponse(res, this.writer));
    };
    ws.on('close', () => this.sockets.delete(ws));
    ws.on('error', () => ws.terminate());
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      if (!isBinary) {
        this.stats.badFrames++;
        ws.close(CLOSE_BAD_DATA, 'binary frames only');
        return;
      }
      let req: ClientRequest;
      try {
        req = decodeRequest(bytes, this.limits);
      } catch (e) {
        this.stats.badFrames++;
        const id = peekRequestId(bytes);
        if (id === undefined || !(e instanceof NeuroplexError)) ws.close(CLOSE_BAD_DATA, 'unreadable frame');
        else reply({ kind: ResponseKind.Error, id, code: e.code, message: e.message });
        return;
      }
      this.stats.requests++;
      if (inFlight >= max) {
        reply({ kind: ResponseKind.Error, id: req.id, code: ClientServerErrorCode.TooManyInFlight, message: `more than ${max} requests in flight on this connection` });
        return;
      }
      inFlight++;
      const id = req.id;
      this.serve(req).then(
        (res) => {
          inFlight--;
          reply(res);
        },
        (e: unknown) => {
          inFlight--;
          reply(errorResponse(id, e));
        },
      );
    });
  }

  /** Not async: a write costs one promise from the node and one `then`, not an async frame and a `finally` as well. */
  private serve(req: ClientRequest): Promise<ClientResponse> {
    if (req.op !== ClientOp.Propose) return this.serveOther(req);
    const id = req.id;
    try {
      return this.o.node.propose(req.command, { timeoutMs: req.timeoutMs, ...(req.commandBytes === undefined ? {} : { encoded: req.commandBytes }) }).then((result) => ({ kind: ResponseKind.Result, id, result }));
    } catch (e) {
      return Promise.reject(e); // a node that throws instead of rejecting
    }
  }

  private async serveOther(req: Exclude<ClientRequest, { op: typeof ClientOp.Propose }>): Promise<ClientResponse> {
    const node = this.o.node;
    switch (req.op) {
      case ClientOp.Read: {
        const entry = await node.read(req.ks, req.key, {
          consistency: req.consistency,
          timeoutMs: req.timeoutMs,
          ...(req.minVersion > 0 ? { minVersion: req.minVersion } : {}),
        });
        return { kind: ResponseKind.Entry, id: req.id, entry };
      }
      case ClientOp.Cluster: {
        const info = node.cluster();
        const leader = info.members.find((m) => m.id === info.leader);
        return { kind: ResponseKind.Cluster, id: req.id, nodeId: info.id, leaderId: info.leader ?? '', leaderUrl: leader?.url ?? '' };
      }
    }
  }

  close(): void {
    for (const ws of this.sockets) ws.terminate();
    this.sockets.clear();
    this.wss.close();
  }
}

function errorResponse(id: number, e: unknown): ClientResponse {
  if (e instanceof NeuroplexError) return { kind: ResponseKind.Error, id, code: e.code, message: e.message };
  return { kind: ResponseKind.Error, id, code: ClientServerErrorCode.Internal, message: e instanceof Error ? e.message : String(e) };
}
