// A TCP proxy on 127.0.0.1 that a test controls: it forwards to a target port that can change
// (a restarted node listens on a new port) and can be blocked, which cuts every connection it
// carries and refuses new ones — a network partition on one link, without root or iptables.
// Also what e2e specs put between browsers and an origin, and what bench:edge taps to time
// the edge's frames toward the origin (`tap`).
import { createServer, type Server, type Socket, connect } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TcpProxyOptions {
  /** Called for each connection accepted; what it returns sees every chunk the client sends. */
  readonly tap?: () => (chunk: Buffer) => void;
}

export class TcpProxy {
  readonly port: number;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private target: number | null = null;
  private blocked = false;
  /** Connections accepted, and refused while blocked (tests). */
  readonly stats = { accepted: 0, refused: 0 };

  private readonly tap: TcpProxyOptions['tap'];

  private constructor(server: Server, port: number, options: TcpProxyOptions) {
    this.server = server;
    this.port = port;
    this.tap = options.tap;
  }

  static async start(options: TcpProxyOptions = {}): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined;
    const server = createServer((client) => proxy!.accept(client));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new TcpProxy(server, (server.address() as AddressInfo).port, options);
    return proxy;
  }

  setTarget(port: number | null): void {
    this.target = port;
  }

  /** Cuts every open connection from the proxy's side (new ones are still accepted). */
  cut(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  /** Cuts every open connection and refuses new ones until unblock(). */
  block(): void {
    this.blocked = true;
    this.cut();
  }

  unblock(): void {
    this.blocked = false;
  }

  get isBlocked(): boolean {
    return this.blocked;
  }

  private accept(client: Socket): void {
    if (this.blocked || this.target === null) {
      this.stats.refused++;
      client.destroy();
      return;
    }
    this.stats.accepted++;
    const upstream = connect(this.target, '127.0.0.1');
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    if (this.tap !== undefined) client.on('data', this.tap());
    this.sockets.add(client);
    this.sockets.add(upstream);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  }

  async close(): Promise<void> {
    this.block();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
