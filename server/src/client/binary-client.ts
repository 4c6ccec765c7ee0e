// A Node client for the binary client protocol (client-server.ts): one WebSocket, many
// requests in flight, answers matched by request id. It connects to the leader when it can
// (writes and strong reads then skip a forwarding hop) and follows leader changes: when the
// connection drops or the node says it has no quorum or stopped, the next request finds the
// leader again among the known URLs. Requests in flight on a lost connection fail with
// CONNECTION_CLOSED (a write may or may not have been applied; retry with a session for
// exactly-once). Nothing is retried automatically.
import { WebSocket } from 'ws';
import { Writer } from '../../../core/src/codec/writer.ts';
import { ClientOp, type ClientConsistency, type ClientRequest, type ClientResponse, decodeResponse, encodeRequest, ResponseKind } from '../../../core/src/client/frames.ts';
import { NeuroplexError } from '../../../core/src/errors.ts';
import type { JsonValue } from '../../../core/src/codec/json-value.ts';
import type { KvCommand, KvEntry, KvResult } from '../../../core/src/kv/commands.ts';
import { CLIENT_PATH } from './client-server.ts';
import { FrameBatcher } from './frame-batcher.ts';

export const ClientErrorCode = {
  ConnectionClosed: 'CONNECTION_CLOSED',
  Unreachable: 'NO_NODE_REACHABLE',
  Timeout: 'CLIENT_TIMEOUT',
  BadResponse: 'BAD_RESPONSE',
  NoLeader: 'NO_LEADER',
} as const;

/** A request failed: `code` is the node's (NO_QUORUM, TIMEOUT, DECODE_*, …) or a ClientErrorCode. */
export class ClientError extends NeuroplexError {
  constructor(code: string, message: string) {
    super(code, message);
    this.name = 'ClientError';
  }
}

export interface BinaryClientOptions {
  /** Node URLs (http://host:port) to try; the leader is found through any of them. */
  readonly urls: readonly string[];
  /** Server-side timeout of each request; default 5,000 ms (the client waits 1 s longer). */
  readonly timeoutMs?: number;
  /** Connect to the leader rather than the first node that answers; default true. */
  readonly followLeader?: boolean;
  readonly connectTimeoutMs?: number;
}

/** How long a client stays on a follower before it looks for the leader again. */
const FALLBACK_RECHECK_MS = 1_000;

interface Pending {
  readonly resolve: (r: ClientResponse) => void;
  readonly reject: (e: unknown) => void;
  readonly deadline: number;
}

class Connection {
  readonly url: string;
  readonly ws: WebSocket;
  readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private readonly writer = new Writer(256);
  private readonly sweeper: NodeJS.Timeout;
  private readonly frames: FrameBatcher;
  closed = false;

  private constructor(url: string, ws: WebSocket) {
    this.url = url;
    this.ws = ws;
    this.frames = new FrameBatcher(ws, { masked: true });
    ws.on('message', (data: Buffer) => this.onFrame(data));
    ws.on('close', () => this.fail(new ClientError(ClientErrorCode.ConnectionClosed, `connection to ${url} closed`)));
    ws.on('error', () => ws.terminate());
    // One timer per connection, not per request: pipelined clients keep thousands in flight.
    this.sweeper = setInterval(() => {
      const now = Date.now();
      for (const [id, p] of this.pending) {
        if (p.deadline > now) continue;
        this.pending.delete(id);
        p.reject(new ClientError(ClientErrorCode.Timeout, `no answer from ${url} in time`));
      }
    }, 200);
  }

  static open(url: string, timeoutMs: number): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${url.replace(/^http/, 'ws')}${CLIENT_PATH}`, { perMessageDeflate: false });
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new ClientError(ClientErrorCode.Unreachable, `cannot connect to ${url} within ${timeoutMs} ms`));
      }, timeoutMs);
      ws.once('open', () => {
        clearTimeout(timer);
        resolve(new Connection(url, ws));
      });
      ws.once('error', (e) => {
        clearTimeout(timer);
        reject(new ClientError(ClientErrorCode.Unreachable, `cannot connect to ${url}: ${e.message}`));
      });
    });
  }

  request(build: (id: number) => ClientRequest, waitMs: number): Promise<ClientResponse> {
    if (this.closed) return Promise.reject(new ClientError(ClientErrorCode.ConnectionClosed, `connection to ${this.url} closed`));
    const id = this.nextId++;
    const frame = encodeRequest(build(id), {}, this.writer); // KvLimitError on bad input, before sending
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, deadline: Date.now() + waitMs });
      this.frames.send(frame);
    });
  }

  private onFrame(data: Buffer): void {
    let res: ClientResponse;
    try {
      res = decodeResponse(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    } catch (e) {
      this.ws.terminate();
      this.fail(new ClientError(ClientErrorCode.BadResponse, `bad frame from ${this.url}: ${(e as Error).message}`));
      return;
    }
    const p = this.pending.get(res.id);
    if (p === undefined) return; // timed out already
    this.pending.delete(res.id);
    p.resolve(res);
  }

  fail(err: ClientError): void {
    if (!this.closed) {
      this.closed = true;
      clearInterval(this.sweeper);
    }
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  close(): void {
    this.ws.close();
    this.fail(new ClientError(ClientErrorCode.ConnectionClosed, 'client closed'));
  }
}

export class BinaryClient {
  private readonly urls: string[];
  private readonly timeoutMs: number;
  private readonly followLeader: boolean;
  private readonly connectTimeoutMs: number;
  private conn: Promise<Connection> | null = null;
  private leaderUrl: string | null = null;
  /** Set while connected to a non-leader because the leader was not reachable. */
  private fallbackSince: number | null = null;
  private closed = false;
  /** Times this client (re)connected (tests). */
  connects = 0;

  constructor(options: BinaryClientOptions) {
    if (options.urls.length === 0) throw new ClientError(ClientErrorCode.Unreachable, 'no node URLs given');
    this.urls = [...options.urls];
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.followLeader = options.followLeader ?? true;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 2_000;
  }

  /** The URL of the node this client is connected to (undefined while not connected). */
  async connectedUrl(): Promise<string> {
    return (await this.connection()).url;
  }

  async propose(command: KvCommand): Promise<KvResult> {
    const res = await this.call((id) => ({ op: ClientOp.Propose, id, timeoutMs: this.timeoutMs, command }));
    if (res.kind !== ResponseKind.Result) throw new ClientError(ClientErrorCode.BadResponse, `expected a result, got kind ${res.kind}`);
    return res.result;
  }

  put(ks: string, key: string, value: JsonValue): Promise<KvResult> {
    return this.propose({ type: 'put', ks, key, value } as KvCommand);
  }

  async read(ks: string, key: string, consistency: ClientConsistency = 'strong', minVersion = 0): Promise<KvEntry | undefined> {
    const res = await this.call((id) => ({ op: ClientOp.Read, id, consistency, ks, key, minVersion, timeoutMs: this.timeoutMs }));
    if (res.kind !== ResponseKind.Entry) throw new ClientError(ClientErrorCode.BadResponse, `expected an entry, got kind ${res.kind}`);
    return res.entry;
  }

  async cluster(): Promise<{ nodeId: string; leaderId: string | null; leaderUrl: string | null }> {
    const res = await this.call((id) => ({ op: ClientOp.Cluster, id }));
    if (res.kind !== ResponseKind.Cluster) throw new ClientError(ClientErrorCode.BadResponse, `expected cluster info, got kind ${res.kind}`);
    return { nodeId: res.nodeId, leaderId: res.leaderId === '' ? null : res.leaderId, leaderUrl: res.leaderUrl === '' ? null : res.leaderUrl };
  }

  private async call(build: (id: number) => ClientRequest): Promise<ClientResponse> {
    const conn = await this.connection();
    let res: ClientResponse;
    try {
      res = await conn.request(build, this.timeoutMs + 1_000);
    } catch (e) {
      if (e instanceof ClientError && e.code === ClientErrorCode.ConnectionClosed) this.forget(conn);
      throw e;
    }
    if (res.kind === ResponseKind.Error) {
      // This node cannot serve now (it lost the leader or stopped): find the leader next time.
      if (res.code === 'NO_QUORUM' || res.code === 'NODE_STOPPED') this.forget(conn, true);
      throw new ClientError(res.code, res.message);
    }
    return res;
  }

  private forget(conn: Connection, close = false): void {
    if (this.leaderUrl === conn.url) this.leaderUrl = null;
    void this.conn?.then((c) => {
      if (c !== conn) return;
      this.conn = null;
      if (close) c.close();
    });
  }

  private connection(): Promise<Connection> {
    if (this.closed) return Promise.reject(new ClientError(ClientErrorCode.ConnectionClosed, 'client closed'));
    if (this.conn !== null && this.fallbackSince !== null && Date.now() - this.fallbackSince > FALLBACK_RECHECK_MS) {
      // Connected to a follower: try for the leader again; the old connection finishes what
      // it carries and is closed after the longest wait.
      const old = this.conn;
      this.conn = null;
      this.fallbackSince = null;
      setTimeout(() => void old.then((c) => c.close(), () => undefined), this.timeoutMs + 1_000).unref();
    }
    if (this.conn === null) {
      const p = this.discover();
      this.conn = p;
      p.then(
        (c) => c.ws.once('close', () => this.forget(c)),
        () => {
          if (this.conn === p) this.conn = null;
        },
      );
    }
    return this.conn;
  }

  /**
   * Connects to the leader: asks each reachable node who leads and connects there (or stays,
   * if the leader cannot be reached from here: that node forwards). A node that knows no
   * leader is skipped, so a client never settles on a node cut off from the majority.
   */
  private async discover(): Promise<Connection> {
    this.connects++;
    this.fallbackSince = null;
    const order = this.leaderUrl === null ? this.urls : [this.leaderUrl, ...this.urls.filter((u) => u !== this.leaderUrl)];
    let lastError: unknown;
    for (const url of order) {
      let c: Connection;
      try {
        c = await Connection.open(url, this.connectTimeoutMs);
      } catch (e) {
        lastError = e;
        continue;
      }
      if (!this.followLeader) return c;
      let info: ClientResponse;
      try {
        info = await c.request((id) => ({ op: ClientOp.Cluster, id }), this.connectTimeoutMs);
      } catch (e) {
        lastError = e;
        c.close();
        continue;
      }
      if (info.kind !== ResponseKind.Cluster || info.leaderId === '') {
        lastError = new ClientError(ClientErrorCode.NoLeader, `${url} knows no leader`);
        c.close();
        continue;
      }
      if (info.leaderId === info.nodeId) {
        this.leaderUrl = url;
        return c;
      }
      if (info.leaderUrl !== '') {
        try {
          const leader = await Connection.open(info.leaderUrl, this.connectTimeoutMs);
          c.close();
          this.leaderUrl = info.leaderUrl;
          return leader;
        } catch {
          // The leader is not reachable from here (or that node is out of date about it).
        }
      }
      // This node forwards for us, but look for the leader again soon.
      this.fallbackSince = Date.now();
      return c;
    }
    const code = lastError instanceof ClientError && lastError.code === ClientErrorCode.NoLeader ? ClientErrorCode.NoLeader : ClientErrorCode.Unreachable;
    throw new ClientError(code, `no leader reachable among ${order.join(', ')}: ${(lastError as Error | undefined)?.message ?? ''}`);
  }

  close(): void {
    this.closed = true;
    void this.conn?.then((c) => c.close(), () => undefined);
    this.conn = null;
  }
}
