// The pure sync session: one state machine per (connection, keyspace), in the style of
// etcd's RawNode. Inputs: receive(bytes | message), local deltas, tick(), and the shell's
// storage confirmations (storedUpTo). Outputs wait in an outbox the shell drains:
// messages to send (takeMessages) and effects to carry out (takeEffects). No I/O, no
// clocks, no randomness. The two roles live in client-session.ts and server-session.ts;
// this base holds what they share: the outbox, the receive path (decode, channel and
// sequence checks) and the one way a session ends.
//
// A shell's loop, per connection (one Multiplexer, sessions on its channels):
//   1. each frame from the transport -> mux.receive(frame)
//   2. each session's takeEffects(), in order:
//        deliver  client: apply + persist (with the cursor `position`), then storedUpTo(seq)
//                 server: commit (origin: through Raft, batched), then committedUpTo(seq, pos)
//                         (an edge: storedUpTo(seq) once stored, committedUpTo when the origin says)
//        chunk    client: persist the part, then storedUpTo(seq)
//        cursor   client: persist the cursor
//        acknowledged committed  client: drop pending changes up to lsn from storage
//        status / closed  report; a closed session is done (open a new one to retry)
//   3. mux.takeFrames() -> the transport, in order
//   4. server: after appending to a keyspace's log, logAdvanced() on its every session
//   5. a timer calls tick() (client handshake timeout)
import { decodeDelta } from '../codec/delta/decoder.ts';
import type { Delta } from '../crdt/delta.ts';
import { MapStore } from '../crdt/map-store.ts';
import { DecodeError, ErrorCode } from '../errors.ts';
import { DEFAULT_SYNC_CODEC_LIMITS, decodeMessage, type SyncCodecLimits } from './codec.ts';
import { type SyncEffect, SyncStatus } from './effects.ts';
import { SyncErrorCode, SyncProtocolError } from './errors.ts';
import { FlowWindow } from './flow-control.ts';
import type { ReplicaId } from '../clock/replica-id.ts';
import type { ChannelId, PresenceMessage, SyncMessage } from './messages.ts';

export const SessionRole = { Client: 'client', Server: 'server' } as const;
export type SessionRole = (typeof SessionRole)[keyof typeof SessionRole];

/** Default bound on unacknowledged payload bytes per session and direction. */
export const DEFAULT_MAX_INFLIGHT_BYTES = 1 << 20;
/** Default bulk-transfer chunk size (kept well under the in-flight budget, so several fly at once). */
export const DEFAULT_CHUNK_BYTES = 64 << 10;
/** Default bound on received payload bytes the shell has not yet confirmed stored. */
export const DEFAULT_MAX_UNSTORED_BYTES = 16 << 20;
/** Default handshake timeout in ticks (the shell decides how long a tick is). */
export const DEFAULT_HANDSHAKE_TIMEOUT_TICKS = 30;

export interface SessionOptions {
  channel: ChannelId;
  /** Bound on unacknowledged payload bytes this side sends (default 1 MiB). */
  maxInflightBytes?: number;
  /**
   * Bound on received payload bytes not yet confirmed by storedUpTo (default 16 MiB): a
   * peer that ignores its in-flight budget ends the session (SYNC_TOO_LARGE) instead of growing
   * this side's memory.
   */
  maxUnstoredBytes?: number;
  /** Limits for decoding frames (default 64 MiB payloads). */
  limits?: SyncCodecLimits;
}

export abstract class SyncSession {
  readonly role: SessionRole;
  readonly channel: ChannelId;
  /** The error that ended the session, if one did. */
  error: SyncProtocolError | undefined;
  protected statusValue: SyncStatus;
  protected readonly flow: FlowWindow;
  /** The receiving direction: payload received and not yet stored by the shell. */
  protected readonly unstored: FlowWindow;
  protected readonly limits: SyncCodecLimits;
  /** Invariant: the sequence number of the last delta or chunk received. */
  protected receivedSeq: number;
  /** The largest in-flight byte count ever reached (for tests and metrics). */
  peakInflightBytes: number;
  /** Presence may be sent: a client once welcomed; a server once the client sent some. */
  protected presenceOpen: boolean;
  private messages: SyncMessage[];
  private effects: SyncEffect[];

  constructor(role: SessionRole, options: SessionOptions) {
    this.role = role;
    this.channel = options.channel;
    this.error = undefined;
    this.statusValue = SyncStatus.Connecting;
    this.flow = new FlowWindow(options.maxInflightBytes ?? DEFAULT_MAX_INFLIGHT_BYTES);
    this.unstored = new FlowWindow(options.maxUnstoredBytes ?? DEFAULT_MAX_UNSTORED_BYTES);
    this.limits = options.limits ?? DEFAULT_SYNC_CODEC_LIMITS;
    this.receivedSeq = 0;
    this.peakInflightBytes = 0;
    this.presenceOpen = false;
    this.messages = [];
    this.effects = [];
  }

  get status(): SyncStatus {
    return this.statusValue;
  }

  get closed(): boolean {
    return this.statusValue === SyncStatus.Closed;
  }

  /** Payload bytes sent and not yet acknowledged as stored. */
  get inflightBytes(): number {
    return this.flow.inflightBytes;
  }

  get maxInflightBytes(): number {
    return this.flow.maxBytes;
  }

  /** Feeds one message from the peer. Errors end the session (see `error`); nothing throws. */
  receive(input: Uint8Array | SyncMessage): void {
    if (this.closed) return;
    let m: SyncMessage;
    if (input instanceof Uint8Array) {
      try {
        m = decodeMessage(input, this.limits);
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
        if (!this.undecodable(input, e)) this.fail(new SyncProtocolError(SyncErrorCode.Malformed, `malformed frame: ${e.message}`, { cause: e }));
        return;
      }
    } else {
      m = input;
    }
    if (m.channel !== this.channel) {
      this.fail(new SyncProtocolError(SyncErrorCode.Unexpected, `message for channel ${m.channel} reached channel ${this.channel}`));
      return;
    }
    try {
      this.handle(m);
    } catch (e) {
      if (e instanceof SyncProtocolError) this.fail(e);
      else if (e instanceof DecodeError) this.fail(new SyncProtocolError(SyncErrorCode.Malformed, `malformed ${m.type}: ${e.message}`, { cause: e }));
      else throw e;
    }
  }

  /** Advances logical time by one tick. */
  tick(): void {}

  /** Ends the session cleanly, telling the peer. */
  close(message = 'closed'): void {
    if (this.closed) return;
    this.send({ type: 'close', channel: this.channel, message });
    this.end(undefined);
  }

  /** True when this session can carry presence now (see presenceOpen). */
  get presenceEnabled(): boolean {
    return this.presenceOpen && !this.closed;
  }

  /**
   * Sends a peer's presence (state undefined: it left). Ephemeral: outside the sequence
   * numbers and the in-flight budget. Returns false, sending nothing, when the session cannot carry
   * it now (the shell re-sends on the next session or heartbeat).
   */
  sendPresence(peer: ReplicaId, state: Uint8Array | undefined): boolean {
    if (!this.presenceEnabled) return false;
    this.send({ type: 'presence', channel: this.channel, peer, state });
    return true;
  }

  /** Messages to send, in order; clears them. */
  takeMessages(): SyncMessage[] {
    const out = this.messages;
    this.messages = [];
    return out;
  }

  /** Effects for the shell, in order; clears them. */
  takeEffects(): SyncEffect[] {
    const out = this.effects;
    this.effects = [];
    return out;
  }

  /** Both outboxes at once. */
  takeOutbox(): { messages: SyncMessage[]; effects: SyncEffect[] } {
    return { messages: this.takeMessages(), effects: this.takeEffects() };
  }

  /** True when something waits in the outbox. */
  hasReady(): boolean {
    return this.messages.length > 0 || this.effects.length > 0;
  }

  // ---- for the roles -------------------------------------------------------------

  protected abstract handle(m: SyncMessage): void;

  /** A frame that did not decode; a role may answer it (true) instead of failing. */
  protected undecodable(_bytes: Uint8Array, _error: DecodeError): boolean {
    return false;
  }

  protected send(m: SyncMessage): void {
    this.messages.push(m);
  }

  /** Sends a delta or chunk through the in-flight budget; returns its sequence number. */
  protected sendCounted(size: number, make: (seq: number) => SyncMessage): number {
    const seq = this.flow.sent(size);
    if (this.flow.inflightBytes > this.peakInflightBytes) this.peakInflightBytes = this.flow.inflightBytes;
    this.messages.push(make(seq));
    return seq;
  }

  protected emit(effect: SyncEffect): void {
    this.effects.push(effect);
  }

  protected setStatus(status: SyncStatus): void {
    if (this.statusValue === status) return;
    this.statusValue = status;
    this.emit({ kind: 'status', status });
  }

  /**
   * Checks the next received sequence number (1, 2, 3, ... with no gap or repeat) and
   * counts its payload against the unstored bound.
   */
  protected nextReceived(seq: number, size: number, what: string): void {
    if (seq !== this.receivedSeq + 1) {
      throw new SyncProtocolError(SyncErrorCode.OutOfOrder, `${what} ${seq} arrived, expected ${this.receivedSeq + 1}`);
    }
    if (!this.unstored.admits(size)) {
      throw new SyncProtocolError(SyncErrorCode.TooLarge, `peer sent past the in-flight budget: ${this.unstored.inflightBytes + size} bytes not yet stored, bound ${this.unstored.maxBytes}`);
    }
    this.unstored.sent(size);
    this.receivedSeq = seq;
  }

  /** The shell stored everything received up to `seq`. */
  protected noteStored(seq: number): void {
    this.unstored.ack(seq);
  }

  /** A presence message from a welcomed peer: hand it to the shell. */
  protected onPresence(m: PresenceMessage): void {
    const first = !this.presenceOpen;
    this.presenceOpen = true;
    this.emit({ kind: 'presence', peer: m.peer, state: m.state, first });
  }

  protected unexpected(m: SyncMessage): never {
    throw new SyncProtocolError(SyncErrorCode.Unexpected, `unexpected ${m.type} while ${this.statusValue} (${this.role})`);
  }

  /** The peer ended the session (error, close, refuse): no answer is sent. */
  protected peerEnded(m: SyncMessage): void {
    if (m.type === 'close') this.end(undefined);
    else if (m.type === 'error') this.end(new SyncProtocolError(m.code, `peer error: ${m.message}`, { remote: true }));
    else if (m.type === 'refuse') {
      this.end(new SyncProtocolError(SyncErrorCode.Refused, `refused (${m.reason}): ${m.message}`, { reason: m.reason, remote: true }));
    }
  }

  /** Ends the session with an error found here and tells the peer. */
  protected fail(error: SyncProtocolError): void {
    if (this.closed) return;
    this.send({ type: 'error', channel: this.channel, code: error.code, message: error.message });
    this.end(error);
  }

  protected end(error: SyncProtocolError | undefined): void {
    if (this.closed) return;
    this.error = error;
    this.setStatus(SyncStatus.Closed);
    this.emit({ kind: 'closed', error });
  }
}

/** Decodes and validates an encoded replica delta (or snapshot); throws DecodeError. */
export function decodeReplicaDelta(bytes: Uint8Array): Delta<MapStore> {
  const { delta } = decodeDelta(bytes);
  if (delta.store !== undefined && !(delta.store instanceof MapStore)) {
    throw new DecodeError(ErrorCode.DecodeType, 'a replica delta must carry a map store', 1);
  }
  return delta as Delta<MapStore>;
}
