// The shared sync socket (browser/src/shared-socket.ts) with a scripted WebSocket: one
// socket per URL, frames routed by channel, late frames dropped, a frame naming no channel
// ends the connection for every member, the last member to leave closes it.
import { describe, expect, it } from 'vitest';
import { joinSocket, type SocketMember } from '../../../browser/src/shared-socket.ts';
import type { WebSocketConstructor, WebSocketLike } from '../../../browser/src/transport.ts';
import { encodeMessage } from '../../../core/src/sync/codec.ts';

class ScriptedSocket implements WebSocketLike {
  static made: ScriptedSocket[] = [];
  binaryType = 'blob';
  readyState = 0;
  sent: Uint8Array[] = [];
  closedWith: number | undefined;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code?: number; reason?: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  constructor(readonly url: string) {
    ScriptedSocket.made.push(this);
  }
  send(data: Uint8Array): void {
    this.sent.push(data);
  }
  close(code?: number): void {
    this.readyState = 3;
    this.closedWith = code;
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
}

function member(log: string[], name: string): SocketMember {
  return {
    opened: () => log.push(`${name} opened`),
    frame: (bytes, header) => log.push(`${name} frame ${bytes.length} ${header.type}@${header.channel}`),
    lost: () => log.push(`${name} lost`),
    error: (m) => log.push(`${name} error ${m}`),
  };
}

const closeFrame = (channel: number): ArrayBuffer => {
  const bytes = encodeMessage({ type: 'close', channel, message: 'bye' });
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
};

describe('shared sync socket', () => {
  it('one socket per URL; frames go to the member of their channel; the last leave closes it', () => {
    // A class of its own: sockets are shared per WebSocket class and URL.
    class WS extends ScriptedSocket {}
    const log: string[] = [];
    const a = joinSocket(WS as unknown as WebSocketConstructor, 'ws://x/v1/sync', member(log, 'a'));
    const b = joinSocket(WS as unknown as WebSocketConstructor, 'ws://x/v1/sync', member(log, 'b'));
    const other = joinSocket(WS as unknown as WebSocketConstructor, 'ws://y/v1/sync', member(log, 'o'));
    expect(ScriptedSocket.made.filter((s) => s instanceof WS).length).toBe(2);
    const socket = ScriptedSocket.made.find((s) => s instanceof WS && s.url === 'ws://x/v1/sync')!;
    expect(a.isOpen).toBe(false);
    socket.open();
    expect(log).toEqual(['a opened', 'b opened']);
    expect(a.isOpen && b.isOpen).toBe(true);
    const [ca, cb] = [a.allocateChannel(), b.allocateChannel()];
    expect(ca).not.toBe(cb);
    log.length = 0;
    socket.onmessage?.({ data: closeFrame(cb) });
    socket.onmessage?.({ data: closeFrame(ca) });
    socket.onmessage?.({ data: closeFrame(99) }); // nobody's: dropped
    // Each member gets the header the socket read to route the frame (its Multiplexer does not read it again).
    const size = closeFrame(ca).byteLength;
    expect(log).toEqual([`b frame ${size} close@${cb}`, `a frame ${size} close@${ca}`]);
    a.send(new Uint8Array([1]));
    expect(socket.sent.length).toBe(1);
    a.leave();
    a.send(new Uint8Array([2])); // gone: nothing sent
    expect(socket.sent.length).toBe(1);
    expect(socket.closedWith).toBeUndefined();
    b.leave();
    expect(socket.closedWith).toBe(1000);
    expect(log).not.toContain('b lost');
    other.leave();
  });

  it('a frame that names no channel ends the connection for every member; the next join opens a new socket', () => {
    class WS extends ScriptedSocket {}
    const log: string[] = [];
    const a = joinSocket(WS as unknown as WebSocketConstructor, 'ws://x/v1/sync', member(log, 'a'));
    joinSocket(WS as unknown as WebSocketConstructor, 'ws://x/v1/sync', member(log, 'b'));
    const first = ScriptedSocket.made.filter((s) => s instanceof WS)[0]!;
    first.open();
    first.onmessage?.({ data: new Uint8Array([]).buffer });
    expect(log.slice(2)).toEqual(['a lost', 'b lost']);
    expect(first.closedWith).toBe(4002);
    expect(a.isOpen).toBe(false);
    joinSocket(WS as unknown as WebSocketConstructor, 'ws://x/v1/sync', member(log, 'c'));
    expect(ScriptedSocket.made.filter((s) => s instanceof WS).length).toBe(2);
  });
});
