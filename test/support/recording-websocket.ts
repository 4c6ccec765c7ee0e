// WebSocket classes (the `ws` package's) that let a test watch a client's connections:
// recordingWebSocket keeps every socket it opens (to count them and see which are still
// open), receivingWebSocket decodes every sync frame a client receives (to see how a
// server brought it up to date). Each call gives a class of its own: clients share sockets
// per class and URL (browser/src/shared-socket.ts).
import { WebSocket } from 'ws';
import type { WebSocketConstructor } from '../../browser/src/transport.ts';
import { decodeMessage } from '../../core/src/sync/codec.ts';
import type { SyncMessage } from '../../core/src/sync/messages.ts';

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

export function receivingWebSocket(): { WS: WebSocketConstructor; received: SyncMessage[] } {
  const received: SyncMessage[] = [];
  class Receiving extends WebSocket {
    constructor(url: string) {
      super(url);
      this.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
        const buf = Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? Buffer.from(data) : data;
        received.push(decodeMessage(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)));
      });
    }
  }
  return { WS: Receiving as unknown as WebSocketConstructor, received };
}
