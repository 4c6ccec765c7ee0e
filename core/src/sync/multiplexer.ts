// Many keyspaces over one connection: routes each frame to the session of its channel and
// collects every session's messages into frames for the transport. A server-side
// multiplexer creates sessions on `hello` through the shell's `accept`, so each channel
// gets its own handshake and authorization. One malformed channel ends only that channel;
// a frame whose channel cannot even be read ends the connection.
import { DecodeError } from '../errors.ts';
import { DEFAULT_SYNC_CODEC_LIMITS, decodeMessage, encodeMessage, type FrameHeader, peekFrameHeader, type SyncCodecLimits } from './codec.ts';
import { RefuseReason, SyncErrorCode, SyncProtocolError } from './errors.ts';
import { type ChannelId, type HelloMessage, SYNC_PROTOCOL_VERSION, type SyncMessage, versionRefusal } from './messages.ts';
import type { SyncSession } from './sync-session.ts';

export interface MultiplexerOptions {
  /**
   * Server role: a hello arrived on a free channel. Return the session that will serve it
   * (it receives the hello next), or a reason to refuse (e.g. unknown keyspace).
   */
  accept?: (hello: HelloMessage) => SyncSession | RefuseReason;
  limits?: SyncCodecLimits;
  /** Most channels open at once (default 1024). */
  maxChannels?: number;
}

export class Multiplexer {
  /** Set when the connection itself failed: the shell should close the transport. */
  error: SyncProtocolError | undefined;
  private readonly sessions: Map<ChannelId, SyncSession>;
  private readonly accept: MultiplexerOptions['accept'];
  private readonly limits: SyncCodecLimits;
  private readonly maxChannels: number;
  /** Frames the multiplexer itself answers with (refusals, errors for unknown channels). */
  private own: Uint8Array[];
  private nextChannel: ChannelId;

  constructor(options: MultiplexerOptions = {}) {
    this.error = undefined;
    this.sessions = new Map();
    this.accept = options.accept;
    this.limits = options.limits ?? DEFAULT_SYNC_CODEC_LIMITS;
    this.maxChannels = options.maxChannels ?? 1024;
    this.own = [];
    this.nextChannel = 1;
  }

  /** A free channel id for a client session. */
  allocateChannel(): ChannelId {
    while (this.sessions.has(this.nextChannel)) this.nextChannel++;
    return this.nextChannel++;
  }

  /** Adds a (client) session on its channel. */
  add(session: SyncSession): void {
    if (this.sessions.has(session.channel)) throw new SyncProtocolError(SyncErrorCode.Unexpected, `channel ${session.channel} is in use`);
    this.sessions.set(session.channel, session);
  }

  session(channel: ChannelId): SyncSession | undefined {
    return this.sessions.get(channel);
  }

  get channels(): ChannelId[] {
    return [...this.sessions.keys()];
  }

  /**
   * Routes one frame from the peer. A transport that already peeked the frame's header (a
   * shared socket routing by channel) passes it in, so the prefix is read once per frame.
   */
  receive(frame: Uint8Array, peeked?: FrameHeader): void {
    if (this.error !== undefined) return;
    const header = peeked ?? peekFrameHeader(frame);
    if (header === undefined) {
      this.failConnection(new SyncProtocolError(SyncErrorCode.Malformed, 'frame too short to name a channel'));
      return;
    }
    const session = this.sessions.get(header.channel);
    if (session !== undefined && !session.closed) {
      session.receive(frame);
      return;
    }
    if (header.type !== 'hello' || this.accept === undefined) {
      // Late frames for a channel that already ended are dropped; anything else is answered.
      if (header.type !== 'error' && header.type !== 'close' && header.type !== 'refuse' && session === undefined) {
        this.answer({ type: 'error', channel: header.channel, code: SyncErrorCode.Unexpected, message: `no session on channel ${header.channel}` });
      }
      return;
    }
    this.onHello(frame, header.channel, header.version);
  }

  private onHello(frame: Uint8Array, channel: ChannelId, version: number): void {
    const refuse = (reason: RefuseReason, message: string): void =>
      this.answer({ type: 'refuse', channel, reason, supportedVersion: SYNC_PROTOCOL_VERSION, message });
    const refusal = versionRefusal(version);
    if (refusal !== undefined) return refuse(refusal.reason, refusal.message);
    let hello: SyncMessage;
    try {
      hello = decodeMessage(frame, this.limits);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      return this.answer({ type: 'error', channel, code: SyncErrorCode.Malformed, message: `malformed hello: ${e.message}` });
    }
    if (hello.type !== 'hello') return;
    let open = 0;
    for (const s of this.sessions.values()) if (!s.closed) open++;
    if (open >= this.maxChannels) return refuse(RefuseReason.TooManyChannels, `more than ${this.maxChannels} channels on one connection`);
    const result = this.accept!(hello);
    if (typeof result === 'string') return refuse(result, `refused keyspace ${hello.keyspace}`);
    if (result.channel !== channel) throw new SyncProtocolError(SyncErrorCode.Unexpected, `accept returned a session for channel ${result.channel}, not ${channel}`);
    // An ended session may still hold its last words (a refusal): they go out first.
    const old = this.sessions.get(channel);
    if (old !== undefined) for (const m of old.takeMessages()) this.own.push(encodeMessage(m));
    this.sessions.set(channel, result);
    result.receive(hello);
  }

  /** Every session's pending messages as frames, in order; forgets sessions that ended. */
  takeFrames(): Uint8Array[] {
    const out = this.own;
    this.own = [];
    for (const [channel, s] of this.sessions) {
      for (const m of s.takeMessages()) out.push(encodeMessage(m));
      if (s.closed) this.sessions.delete(channel);
    }
    return out;
  }

  /** Ends every session, e.g. when the transport closed. */
  closeAll(message = 'connection closed'): void {
    for (const s of this.sessions.values()) s.close(message);
  }

  private answer(m: SyncMessage): void {
    this.own.push(encodeMessage(m));
  }

  private failConnection(error: SyncProtocolError): void {
    this.error = error;
    for (const s of this.sessions.values()) s.receive({ type: 'error', channel: s.channel, code: error.code, message: error.message });
  }
}
