// Coalesces the WebSocket frames one event-loop turn sends on a connection into one socket
// write. A leader applying a Ready of 500 writes answers 500 requests in the same turn; sent
// one by one, each answer would cost its own write syscall, which is most of a loaded node's
// CPU. `ws` keeps its underlying net.Socket in a field it does not type, so this reaches it
// through a narrow cast; without one (a mock) it does nothing.
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

export class SocketBatcher {
  private readonly socket: Socket | undefined;
  private corked = false;

  constructor(ws: WebSocket) {
    const s = (ws as unknown as { _socket?: Socket })._socket;
    this.socket = s !== undefined && typeof s.cork === 'function' ? s : undefined;
  }

  /** Call before ws.send: the frames sent until the next turn of the event loop leave together. */
  hold(): void {
    if (this.corked || this.socket === undefined) return;
    this.corked = true;
    this.socket.cork();
    // setImmediate, not nextTick: answers resolved through promise chains in this turn must
    // all be in before the socket is uncorked.
    setImmediate(() => {
      this.corked = false;
      this.socket!.uncork();
    });
  }
}
