// Raft messages between origin nodes over WebSockets (`ws`), binary frames in the core
// codec. Each node dials every peer for its outgoing messages and accepts peers' dials for
// incoming ones. A dial is authenticated by the cluster secret without sending it: the
// accepting node sends a random challenge, the dialer answers with
// HMAC-SHA256(secret, "neuroplex-raft|" + challenge + "|" + its name).
//
//   frame = u8 tag | payload     tag 1 challenge (32 bytes) · 2 answer (name, 32-byte MAC)
//                                tag 3 welcome · tag 4 Raft message (raft/codec.ts)
//                                tag 5 ephemeral (sync presence; never a Raft entry)
//                                tag 6 batch: varuint count | count × (varuint len | message)
//
// send() gets all messages of one Ready at once; those for one peer leave as one batch
// frame (one WebSocket frame, one socket write), which is what keeps a loaded leader's CPU
// out of per-message framing and syscalls.
//
// Raft tolerates lost, duplicated and reordered messages, so the transport only bounds
// its queues (dropping the oldest) and never blocks the driver. Ephemeral frames are not
// queued at all: sent to the peers reachable now, else dropped (presence re-sends).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { Reader } from '../../../core/src/codec/reader.ts';
import { Writer } from '../../../core/src/codec/writer.ts';
import { DecodeError, ErrorCode } from '../../../core/src/errors.ts';
import { decodeMessage, encodeMessage } from '../../../core/src/raft/codec.ts';
import type { Message, NodeId } from '../../../core/src/raft/types.ts';

export const PEER_PATH = '/v1/raft';
const Tag = { Challenge: 1, Answer: 2, Welcome: 3, Message: 4, Ephemeral: 5, Batch: 6 } as const;
const CHALLENGE_BYTES = 32;
/** WebSocket close codes: 1008 policy (authentication), 1003 unsupported data. */
const CLOSE_AUTH = 1008;
const CLOSE_BAD_DATA = 1003;

export interface PeerTransportOptions {
  readonly selfName: string;
  readonly secret: string;
  /** Called for every authenticated, well-formed incoming message. */
  readonly onMessage: (m: Message) => void;
  /** Called when a peer cannot be reached (Raft slows its probes). */
  readonly onUnreachable?: (id: NodeId) => void;
  /** Outgoing messages queued per peer while it is unreachable; default 10,000. */
  readonly maxQueuedMessages?: number;
  readonly maxBackoffMs?: number;
  /** Largest accepted frame; default 64 MiB (Raft appends are bounded below that). */
  readonly maxFrameBytes?: number;
}

interface Outbound {
  readonly id: NodeId;
  url: string;
  socket: WebSocket | null;
  ready: boolean;
  /** Frames waiting for the link, each with how many Raft messages it holds. */
  queue: { frame: Uint8Array; messages: number }[];
  backoffMs: number;
  timer: NodeJS.Timeout | null;
}

export class PeerTransport {
  private readonly options: PeerTransportOptions;
  private readonly server: WebSocketServer;
  private readonly peers = new Map<NodeId, Outbound>();
  private readonly inbound = new Set<WebSocket>();
  private readonly writer = new Writer(4096);
  private closed = false;
  /** Counters for metrics and tests. */
  readonly stats = { sent: 0, received: 0, framesSent: 0, framesReceived: 0, dropped: 0, rejected: 0, ephemeralSent: 0, ephemeralReceived: 0 };
  /**
   * Receives authenticated ephemeral frames (`from`: the sending node's name). May throw
   * DecodeError: the frame is then dropped and counted as rejected, the link stays.
   */
  onEphemeral: ((from: string, payload: Uint8Array) => void) | undefined = undefined;

  constructor(options: PeerTransportOptions) {
    this.options = options;
    this.server = new WebSocketServer({ noServer: true, maxPayload: options.maxFrameBytes ?? 64 * 1024 * 1024 });
  }

  /** Sets (or changes) where peer `id` is dialed. */
  setPeer(id: NodeId, url: string): void {
    const existing = this.peers.get(id);
    if (existing !== undefined) {
      if (existing.url !== url) {
        existing.url = url;
        existing.socket?.terminate();
      }
      return;
    }
    const peer: Outbound = { id, url, socket: null, ready: false, queue: [], backoffMs: 50, timer: null };
    this.peers.set(id, peer);
    this.dial(peer);
  }

  removePeer(id: NodeId): void {
    const peer = this.peers.get(id);
    if (peer === undefined) return;
    this.peers.delete(id);
    if (peer.timer !== null) clearTimeout(peer.timer);
    peer.socket?.terminate();
  }

  send(messages: readonly Message[]): void {
    if (messages.length === 0) return;
    // Group by peer, keeping each peer's order.
    const byPeer = new Map<NodeId, Message[]>();
    for (const m of messages) {
      const list = byPeer.get(m.to);
      if (list === undefined) byPeer.set(m.to, [m]);
      else list.push(m);
    }
    for (const [to, list] of byPeer) {
      const peer = this.peers.get(to);
      if (peer === undefined) {
        this.stats.dropped += list.length;
        continue;
      }
      const frame = this.encodeFrame(list);
      if (peer.ready && peer.socket !== null) {
        this.write(peer.socket, frame, list.length);
      } else {
        if (peer.queue.length >= (this.options.maxQueuedMessages ?? 10_000)) {
          peer.queue.shift();
          this.stats.dropped++;
        }
        peer.queue.push({ frame, messages: list.length });
      }
    }
  }

  /** Sends a frame of `messages` Raft messages on a ready link, and counts it. */
  private write(socket: WebSocket, frame: Uint8Array, messages: number): void {
    socket.send(frame);
    this.stats.sent += messages;
    this.stats.framesSent++;
  }

  /** Sends an ephemeral frame to every peer reachable now; the others miss it. */
  broadcastEphemeral(payload: Uint8Array): void {
    let frame: Uint8Array | undefined;
    for (const peer of this.peers.values()) {
      if (!peer.ready || peer.socket === null) continue;
      if (frame === undefined) {
        frame = new Uint8Array(payload.length + 1);
        frame[0] = Tag.Ephemeral;
        frame.set(payload, 1);
      }
      peer.socket.send(frame);
      this.stats.ephemeralSent++;
    }
  }

  private encodeFrame(list: readonly Message[]): Uint8Array {
    const w = this.writer;
    w.reset();
    if (list.length === 1) {
      w.u8(Tag.Message);
      w.raw(encodeMessage(list[0]!));
    } else {
      w.u8(Tag.Batch);
      w.varuint(list.length);
      for (const m of list) w.bytes(encodeMessage(m));
    }
    return w.finish();
  }

  /** Accepts a peer's dial: hand it the HTTP server's `upgrade` events for PEER_PATH. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.server.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
  }

  private accept(ws: WebSocket): void {
    this.inbound.add(ws);
    const challenge = randomBytes(CHALLENGE_BYTES);
    let authenticated = false;
    let peerName = '';
    ws.send(Buffer.concat([Buffer.from([Tag.Challenge]), challenge]));
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary || data.length === 0) return this.reject(ws, CLOSE_BAD_DATA, 'binary frames only');
      if (!authenticated) {
        if (data[0] !== Tag.Answer) return this.reject(ws, CLOSE_AUTH, 'authenticate first');
        try {
          const r = new Reader(data.subarray(1));
          const name = r.string(256);
          const mac = r.raw(32);
          r.end();
          const expected = this.mac(challenge, name);
          if (!timingSafeEqual(Buffer.from(mac), expected)) return this.reject(ws, CLOSE_AUTH, 'bad cluster secret');
          peerName = name;
        } catch (e) {
          if (e instanceof DecodeError) return this.reject(ws, CLOSE_AUTH, 'malformed answer');
          throw e;
        }
        authenticated = true;
        ws.send(Buffer.from([Tag.Welcome]));
        return;
      }
      if (data[0] === Tag.Ephemeral) {
        this.stats.ephemeralReceived++;
        try {
          this.onEphemeral?.(peerName, new Uint8Array(data.buffer, data.byteOffset + 1, data.length - 1));
        } catch (e) {
          if (!(e instanceof DecodeError)) throw e;
          this.stats.rejected++;
        }
        return;
      }
      let messages: Message[];
      try {
        messages = decodeFrame(data);
      } catch (e) {
        if (e instanceof DecodeError) return this.reject(ws, CLOSE_BAD_DATA, `malformed Raft message: ${e.message}`);
        throw e;
      }
      this.stats.received += messages.length;
      this.stats.framesReceived++;
      for (const m of messages) this.options.onMessage(m);
    });
    ws.on('close', () => this.inbound.delete(ws));
    ws.on('error', () => ws.terminate());
  }

  private reject(ws: WebSocket, code: number, reason: string): void {
    this.stats.rejected++;
    ws.close(code, reason);
  }

  private mac(challenge: Uint8Array, name: string): Buffer {
    return createHmac('sha256', this.options.secret).update('neuroplex-raft|').update(challenge).update('|').update(name).digest();
  }

  private dial(peer: Outbound): void {
    if (this.closed || !this.peers.has(peer.id)) return;
    const ws = new WebSocket(`${peer.url.replace(/^http/, 'ws')}${PEER_PATH}`, { maxPayload: this.options.maxFrameBytes ?? 64 * 1024 * 1024, generateMask: zeroMask });
    peer.socket = ws;
    peer.ready = false;
    ws.on('message', (data: Buffer) => {
      if (data[0] === Tag.Challenge && data.length === CHALLENGE_BYTES + 1) {
        const w = new Writer(128);
        w.u8(Tag.Answer);
        w.string(this.options.selfName);
        w.raw(this.mac(data.subarray(1), this.options.selfName));
        ws.send(w.finish());
      } else if (data[0] === Tag.Welcome) {
        peer.ready = true;
        peer.backoffMs = 50;
        for (const { frame, messages } of peer.queue) this.write(ws, frame, messages);
        peer.queue = [];
      }
    });
    const retry = (): void => {
      if (peer.socket !== ws) return;
      peer.socket = null;
      peer.ready = false;
      this.options.onUnreachable?.(peer.id);
      if (this.closed || !this.peers.has(peer.id)) return;
      // Exponential backoff with jitter, capped.
      const delay = peer.backoffMs * (0.5 + Math.random());
      peer.backoffMs = Math.min(peer.backoffMs * 2, this.options.maxBackoffMs ?? 2_000);
      peer.timer = setTimeout(() => {
        peer.timer = null;
        this.dial(peer);
      }, delay);
    };
    ws.on('close', retry);
    ws.on('error', () => ws.terminate());
  }

  close(): void {
    this.closed = true;
    for (const peer of this.peers.values()) {
      if (peer.timer !== null) clearTimeout(peer.timer);
      peer.socket?.terminate();
    }
    this.peers.clear();
    for (const ws of this.inbound) ws.terminate();
    this.inbound.clear();
    this.server.close();
  }
}

/**
 * The masking key of the frames this node sends on links it dialed. RFC 6455 masks client
 * frames so that script in a browser cannot choose the bytes an intermediary sees; a peer
 * link carries only what this node encodes, so its key is zero: ws then skips the XOR pass
 * over every byte of every append on both ends (the receiver skips a zero key too).
 */
function zeroMask(mask: Uint8Array): void {
  mask.fill(0);
}

/** A Message or Batch frame's Raft messages; DecodeError for anything else. */
function decodeFrame(data: Buffer): Message[] {
  const body = new Uint8Array(data.buffer, data.byteOffset + 1, data.length - 1);
  if (data[0] === Tag.Message) return [decodeMessage(body)];
  if (data[0] !== Tag.Batch) throw new DecodeError(ErrorCode.DecodeInvalid, `unknown frame tag ${data[0]}`, 0);
  const r = new Reader(body);
  const n = r.count('batched messages', 2);
  const out: Message[] = [];
  for (let i = 0; i < n; i++) out.push(decodeMessage(r.raw(r.varuint())));
  r.end();
  return out;
}
