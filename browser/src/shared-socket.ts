// One sync socket per origin URL for every client of a page (or Node process): the protocol
// multiplexes keyspaces over one connection, each on its own channel with its own
// handshake and authorization (core/src/sync/multiplexer.ts), so an app with many
// keyspaces opens one socket, not one per keyspace. Each client keeps its own session and
// Multiplexer; this routes frames to the client whose channel they name, handing over the
// header it read so the client's Multiplexer does not read it again.
//
// - A client joins with `joinSocket` and is told when the socket is open (at once if it
//   already is), gets a channel, and leaves when its session ends; the socket closes when
//   the last client leaves.
// - A failure of the connection itself (closed by the network or the server, a frame that
//   names no channel, `fail()`) reaches every client, which reconnects on its own backoff.
// - The edge serves one keyspace per socket (each keyspace is its own Durable Object, chosen
//   by the URL's `ks`), so there URLs differ and nothing is shared.
import { type FrameHeader, peekFrameHeader } from '../../core/src/sync/codec.ts';
import { frameBytes, WS_CONNECTING, WS_OPEN, type WebSocketConstructor, type WebSocketLike } from './transport.ts';

/** What a client hears from the socket it joined. */
export interface SocketMember {
  /** The socket is open: start a session on a channel from `allocateChannel`. */
  opened(): void;
  /** A frame on this member's channel, with the header the socket read to route it. */
  frame(bytes: Uint8Array, header: FrameHeader): void;
  /** The connection failed or closed: the member has left it. */
  lost(): void;
  /** A socket error, for diagnostics. */
  error(message: string): void;
}

/** A member's handle on the shared socket. */
export interface SocketLease {
  readonly url: string;
  readonly isOpen: boolean;
  /** A channel no other member of this socket uses; frames on it go to this member. */
  allocateChannel(): number;
  send(frame: Uint8Array): void;
  /** Leaves the socket (closed once nobody is left). */
  leave(): void;
  /** Ends the connection for every member, as a network failure would (code 4000). */
  fail(reason: string): void;
}

const sockets = new WeakMap<WebSocketConstructor, Map<string, SharedSocket>>();

/**
 * Joins the socket to `url` (opening one if none is open or opening). `shared: false` opens
 * a socket of the member's own (one simulated user per socket in tests and benchmarks).
 */
export function joinSocket(WebSocket: WebSocketConstructor, url: string, member: SocketMember, shared = true): SocketLease {
  if (!shared) return new SharedSocket(new WebSocket(url), url, () => {}).join(member);
  let byUrl = sockets.get(WebSocket);
  if (byUrl === undefined) sockets.set(WebSocket, (byUrl = new Map()));
  let socket = byUrl.get(url);
  if (socket === undefined) {
    const created: SharedSocket = new SharedSocket(new WebSocket(url), url, () => {
      if (byUrl.get(url) === created) byUrl.delete(url);
    });
    byUrl.set(url, (socket = created));
  }
  return socket.join(member);
}

class SharedSocket {
  private readonly members = new Set<SocketMember>();
  private readonly byChannel = new Map<number, SocketMember>();
  private nextChannel = 1;
  private ended = false;

  constructor(
    private readonly ws: WebSocketLike,
    readonly url: string,
    private readonly forget: () => void,
  ) {
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => {
      for (const m of [...this.members]) m.opened();
    };
    ws.onmessage = (ev) => {
      const bytes = frameBytes(ev.data);
      const header = bytes === undefined ? undefined : peekFrameHeader(bytes);
      if (bytes === undefined || header === undefined) return this.end(4002, 'a frame that names no channel');
      // Frames for a channel already left (late answers) are dropped.
      this.byChannel.get(header.channel)?.frame(bytes, header);
    };
    ws.onclose = () => this.end(1000, 'closed');
    ws.onerror = (ev) => {
      const message = `sync socket to ${url} failed: ${String((ev as { message?: string }).message ?? 'error')}`;
      for (const m of [...this.members]) m.error(message);
    };
  }

  join(member: SocketMember): SocketLease {
    this.members.add(member);
    return new Lease(this, member);
  }

  get open(): boolean {
    return !this.ended && this.ws.readyState === WS_OPEN;
  }

  has(member: SocketMember): boolean {
    return this.members.has(member);
  }

  allocateChannel(member: SocketMember): number {
    while (this.byChannel.has(this.nextChannel)) this.nextChannel++;
    const channel = this.nextChannel++;
    this.byChannel.set(channel, member);
    return channel;
  }

  send(member: SocketMember, frame: Uint8Array): void {
    if (this.members.has(member) && this.open) this.ws.send(frame);
  }

  leave(member: SocketMember): void {
    if (!this.members.delete(member)) return;
    for (const [channel, m] of this.byChannel) if (m === member) this.byChannel.delete(channel);
    if (this.members.size === 0) this.end(1000, 'closing');
  }

  /** Closes the socket; every member still on it hears `lost`. */
  end(code: number, reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.forget();
    const left = [...this.members];
    this.members.clear();
    this.byChannel.clear();
    closeQuietly(this.ws, code, reason);
    for (const m of left) m.lost();
  }
}

class Lease implements SocketLease {
  constructor(
    private readonly socket: SharedSocket,
    private readonly member: SocketMember,
  ) {}

  get url(): string {
    return this.socket.url;
  }

  get isOpen(): boolean {
    return this.socket.has(this.member) && this.socket.open;
  }

  allocateChannel(): number {
    return this.socket.allocateChannel(this.member);
  }

  send(frame: Uint8Array): void {
    this.socket.send(this.member, frame);
  }

  leave(): void {
    this.socket.leave(this.member);
  }

  fail(reason: string): void {
    if (this.socket.has(this.member)) this.socket.end(4000, reason);
  }
}

/** Closes a socket in any state without its late events reaching us (or throwing). */
function closeQuietly(ws: WebSocketLike, code: number, reason: string): void {
  const ignore = (): void => {};
  ws.onmessage = ignore;
  ws.onclose = ignore;
  ws.onerror = ignore;
  // Closing a socket still connecting aborts it: close it once it opens instead.
  if (ws.readyState === WS_CONNECTING) ws.onopen = () => ws.close(code, reason);
  else {
    ws.onopen = ignore;
    try {
      ws.close(code, reason);
    } catch {
      // Already closing or closed.
    }
  }
}
