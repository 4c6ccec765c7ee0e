// A WebSocket class (the `ws` package's) that keeps every socket it opens, so a test can
// count a client's connections and see which are still open. Each call gives a class of
// its own: clients share sockets per class and URL (browser/src/shared-socket.ts).
import { WebSocket } from 'ws';
import type { WebSocketConstructor } from '../../browser/src/transport.ts';

export function recordingWebSocket(): { WS: WebSocketConstructor; sockets: WebSocket[] } {
  const sockets: WebSocket[] = [];
  class Recording extends WebSocket {
    constructor(url: string) {
      super(url);
      sockets.push(this);
    }
  }
  return { WS: Recording as unknown as WebSocketConstructor, sockets };
}
