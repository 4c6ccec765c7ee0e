// Writes the binary WebSocket messages one event-loop turn sends on a connection as one
// socket write: each message is framed (RFC 6455 §5.2) straight into one buffer per
// connection, and the buffer is written when the turn ends.
//
// A leader applying a Ready of 500 writes answers 500 requests in that turn. Through
// ws.send each answer cost a frame header allocation, two queued writes and, even corked,
// a writev over 2 × 500 chunks: the largest single item of a loaded leader's CPU profile.
// Here it is one copy of each payload and one write.
//
// `ws` keeps its net.Socket in a field it does not type; this reaches it through a narrow
// cast (without one, as with a mock, it falls back to ws.send). Writing frames to the
// socket directly is safe because whole frames are written and this connection's messages
// all go through here (ws queues nothing of its own without compression, which the binary
// protocol does not negotiate). A client must mask its frames: `masked` takes the masking
// keys from a pool of random bytes, as ws does.
import { randomFillSync } from 'node:crypto';
import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import { Writer } from '../../../core/src/codec/writer.ts';

const OP_BINARY_FIN = 0x82;
const MASK_POOL_BYTES = 8 * 1024;
const KEEP_BUFFER_BYTES = 256 * 1024;

let maskPool = new Uint8Array(0);
let maskAt = 0;

function maskKey(): Uint8Array {
  if (maskAt + 4 > maskPool.length) {
    maskPool = randomFillSync(new Uint8Array(MASK_POOL_BYTES));
    maskAt = 0;
  }
  maskAt += 4;
  return maskPool.subarray(maskAt - 4, maskAt);
}

export class FrameBatcher {
  private readonly ws: WebSocket;
  private readonly socket: Socket | undefined;
  private readonly masked: boolean;
  private out = new Writer(16 * 1024);
  private scheduled = false;
  /** Socket writes made, and messages in them (tests, metrics). */
  readonly stats = { writes: 0, messages: 0 };

  constructor(ws: WebSocket, options: { masked: boolean }) {
    this.ws = ws;
    this.masked = options.masked;
    const s = (ws as unknown as { _socket?: Socket })._socket;
    this.socket = s !== undefined && typeof s.write === 'function' ? s : undefined;
  }

  /** Sends `payload` as one binary message, with everything else sent in this turn. */
  send(payload: Uint8Array): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (this.socket === undefined) {
      this.ws.send(payload);
      return;
    }
    const n = payload.length;
    const out = this.out;
    out.u8(OP_BINARY_FIN);
    const maskBit = this.masked ? 0x80 : 0;
    if (n < 126) out.u8(maskBit | n);
    else if (n < 65_536) {
      out.u8(maskBit | 126);
      out.u8(n >>> 8);
      out.u8(n & 0xff);
    } else {
      out.u8(maskBit | 127);
      // Payloads stay far below 2^53; the high bytes of the 64-bit length are zero.
      const hi = Math.floor(n / 2 ** 32);
      out.u8(0);
      out.u8(0);
      out.u8((hi >>> 8) & 0xff);
      out.u8(hi & 0xff);
      out.u8((n >>> 24) & 0xff);
      out.u8((n >>> 16) & 0xff);
      out.u8((n >>> 8) & 0xff);
      out.u8(n & 0xff);
    }
    if (this.masked) {
      const key = maskKey();
      out.raw(key);
      const p = out.pos;
      out.raw(payload);
      const buf = out.buf;
      for (let i = 0; i < n; i++) buf[p + i] ^= key[i & 3]!;
    } else out.raw(payload);
    this.stats.messages++;
    if (!this.scheduled) {
      this.scheduled = true;
      // setImmediate, not nextTick: answers resolved through promise chains in this turn
      // must all be in before the buffer goes out.
      setImmediate(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    if (this.out.pos === 0) return;
    // A copy: the socket may hold the chunk until the kernel takes it, and `out` is reused.
    const chunk = this.out.finish();
    this.out.reset();
    if (this.out.buf.length > KEEP_BUFFER_BYTES) this.out = new Writer(16 * 1024);
    if (this.ws.readyState !== WebSocket.OPEN || this.socket === undefined) return;
    this.stats.writes++;
    this.socket.write(chunk);
  };
}
