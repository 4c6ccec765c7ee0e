// The server role of a sync session (origin node or edge). It checks the hello (version,
// keyspace, the shell's `authorize`), picks how to bring the client up to date (the log
// after its cursor; a snapshot when the cursor is behind compaction or from another log;
// the context delta in the fallback), streams that and then every new log entry through
// the in-flight budget, and acknowledges the client's changes as its shell stores and
// commits them. It reads the log from the KeyspaceSource: a slow client costs a cursor,
// not a queue.
//
// The source's log may change identity while the session streams it (the origin's empty
// keyspace gets its real log id at its first commit). Between transfers, before anything
// of the new log goes out, the session sends `log` (new id, position 0: a position of the
// old log means nothing in the new one, and position 0 of any log is a lower bound of what
// the client holds) and goes on from there: the new log's entries from its start, or a
// snapshot when that start is compacted away.
import type { ReplicaId } from '../clock/replica-id.ts';
import { type DecodeError, ErrorCode, assert } from '../errors.ts';
import { fnv1a32 } from './checksum.ts';
import { peekFrameHeader } from './codec.ts';
import { DeliverySource, SyncStatus } from './effects.ts';
import { RefuseReason, SyncErrorCode, SyncProtocolError } from './errors.ts';
import type { KeyspaceSource } from './keyspace-source.ts';
import {
  type AckMessage,
  type ChannelId,
  type DeltaMessage,
  type HelloMessage,
  SYNC_PROTOCOL_VERSION,
  type SyncMessage,
  type SyncMode,
  type TransferKind,
  versionRefusal,
} from './messages.ts';
import { DEFAULT_CHUNK_BYTES, decodeReplicaDelta, SessionRole, type SessionOptions, SyncSession } from './sync-session.ts';

/**
 * The shell's authorization seam: may `token` sync `keyspace` as `replica`? 'pending'
 * when the answer needs I/O (a key lookup, a signature check with crypto.subtle): the
 * session then waits for `authorizationResult(allowed)`.
 */
export type Authorize = (token: string, keyspace: string, replica: ReplicaId) => boolean | 'pending';

export interface ServerSessionOptions extends SessionOptions {
  source: KeyspaceSource;
  /** Checked at the handshake; without it every token is accepted. */
  authorize?: Authorize;
  /** Bulk transfer chunk size (default 64 KiB, capped at maxInflightBytes). */
  chunkBytes?: number;
  /** Most log entries read at once (default 256). */
  maxEntriesPerRead?: number;
}

/**
 * What a quiescent server session needs to go on in a rebuilt shell (a Durable Object woken
 * from hibernation keeps this in the socket's attachment): plain data, structured-cloneable.
 */
export interface ServerSessionResumeState {
  readonly channel: ChannelId;
  readonly peer: ReplicaId;
  /** The client's log position as far as this session has sent (all of it acknowledged). */
  readonly cursor: number;
  /** The last sequence number this session sent. */
  readonly sentSeq: number;
  /** The last sequence number received (stored and committed). */
  readonly receivedSeq: number;
  /** The client has sent presence (so it is sent presence). */
  readonly presence?: boolean;
  /** The log `cursor` counts in (absent in states saved before it existed: the source's). */
  readonly logId?: string;
}

interface OutgoingTransfer {
  readonly kind: TransferKind;
  readonly position: number;
  readonly bytes: Uint8Array;
  readonly checksum: number;
  offset: number;
}

export class ServerSyncSession extends SyncSession {
  readonly source: KeyspaceSource;
  /** The client's replica id, once it said hello. */
  peer: ReplicaId | undefined;
  /** How this session brings the client up to date, once decided. */
  mode: SyncMode | undefined;
  private readonly authorize: Authorize | undefined;
  private readonly chunkBytes: number;
  private readonly maxEntriesPerRead: number;
  private welcomed: boolean;
  /** A hello whose authorization the shell is still deciding. */
  private awaitingAuthorization: HelloMessage | undefined;
  /** Invariant: once what is sent arrives, the client holds log `logId` up to `cursor`. */
  private cursor: number;
  /**
   * The log `cursor` and every position sent count in: the source's at the welcome, or
   * the one the last `log` message named.
   */
  private logId: string;
  /** The head at the handshake: reaching it means the client has the server's state. */
  private targetHead: number;
  private transfer: OutgoingTransfer | undefined;
  private caughtUpSent: boolean;
  /** Log position named by the last delta, completed transfer or progress sent. */
  private lastPositionSent: number;
  private storedSeq: number;
  private committedSeq: number;

  constructor(options: ServerSessionOptions) {
    super(SessionRole.Server, options);
    this.source = options.source;
    this.peer = undefined;
    this.mode = undefined;
    this.authorize = options.authorize;
    this.chunkBytes = Math.min(options.chunkBytes ?? DEFAULT_CHUNK_BYTES, this.flow.maxBytes);
    assert(this.chunkBytes > 0, 'chunkBytes must be positive');
    this.maxEntriesPerRead = options.maxEntriesPerRead ?? 256;
    this.welcomed = false;
    this.awaitingAuthorization = undefined;
    this.cursor = 0;
    this.logId = '';
    this.targetHead = 0;
    this.transfer = undefined;
    this.caughtUpSent = false;
    this.lastPositionSent = 0;
    this.storedSeq = 0;
    this.committedSeq = 0;
  }

  /** The shell appended to the log: stream what the budget admits. */
  logAdvanced(): void {
    this.pump();
  }

  /** The shell stored the client's changes up to `seq` durably. */
  storedUpTo(seq: number): void {
    if (this.closed) return;
    assert(seq <= this.receivedSeq, `storedUpTo(${seq}) beyond the last received ${this.receivedSeq}`);
    this.noteStored(seq);
    if (seq <= this.storedSeq) return;
    this.storedSeq = seq;
    this.send({ type: 'ack', channel: this.channel, level: 'stored', seq, position: 0 });
  }

  /** The origin log holds the client's changes up to `seq`, the last at `position`. */
  committedUpTo(seq: number, position: number): void {
    if (this.closed) return;
    assert(seq <= this.receivedSeq, `committedUpTo(${seq}) beyond the last received ${this.receivedSeq}`);
    this.noteStored(seq);
    if (seq <= this.committedSeq) return;
    this.committedSeq = seq;
    if (seq > this.storedSeq) this.storedSeq = seq;
    // A position of a log not announced to the client yet (see followLog) is not named.
    const named = this.source.logId === this.logId ? position : 0;
    this.send({ type: 'ack', channel: this.channel, level: 'committed', seq, position: named });
  }

  /** The shell's answer to an authorization it left 'pending'. */
  authorizationResult(allowed: boolean): void {
    const hello = this.awaitingAuthorization;
    if (this.closed || hello === undefined) return;
    this.awaitingAuthorization = undefined;
    if (allowed) this.welcome(hello);
    else this.refuse(RefuseReason.Unauthorized, `not authorized for keyspace ${hello.keyspace}`);
  }

  /** The client's log position as far as this session has sent. */
  get sentPosition(): number {
    return this.cursor;
  }

  /**
   * The state to resume this session elsewhere, when it is quiescent: synced, no transfer,
   * nothing in flight either way, every received change committed. Undefined otherwise
   * (the client then reconnects and resumes from its cursor instead).
   */
  resumeState(): ServerSessionResumeState | undefined {
    if (!this.welcomed || this.closed || !this.caughtUpSent || this.transfer !== undefined) return undefined;
    if (this.flow.inflightBytes !== 0 || this.flow.ackedSeq !== this.flow.lastSeq) return undefined;
    if (this.unstored.inflightBytes !== 0 || this.committedSeq !== this.receivedSeq || this.lastPositionSent !== this.cursor) return undefined;
    return { channel: this.channel, peer: this.peer!, cursor: this.cursor, sentSeq: this.flow.lastSeq, receivedSeq: this.receivedSeq, presence: this.presenceOpen, logId: this.logId };
  }

  /** A session continuing from `resumeState()` of one that served the same source. */
  static resume(options: ServerSessionOptions, state: ServerSessionResumeState): ServerSyncSession {
    const s = new ServerSyncSession({ ...options, channel: state.channel });
    s.welcomed = true;
    s.peer = state.peer;
    s.mode = 'log';
    s.cursor = state.cursor;
    s.logId = state.logId ?? s.source.logId;
    s.targetHead = state.cursor;
    s.caughtUpSent = true;
    s.lastPositionSent = state.cursor;
    s.flow.lastSeq = state.sentSeq;
    s.flow.ackedSeq = state.sentSeq;
    s.receivedSeq = state.receivedSeq;
    s.unstored.lastSeq = state.receivedSeq;
    s.unstored.ackedSeq = state.receivedSeq;
    s.storedSeq = state.receivedSeq;
    s.committedSeq = state.receivedSeq;
    s.presenceOpen = state.presence === true;
    s.statusValue = SyncStatus.Synced;
    return s;
  }

  protected handle(m: SyncMessage): void {
    switch (m.type) {
      case 'hello':
        if (this.welcomed || this.awaitingAuthorization !== undefined) this.unexpected(m);
        return this.onHello(m);
      case 'delta':
        if (!this.welcomed) this.unexpected(m);
        return this.onDelta(m);
      case 'ack':
        if (!this.welcomed) this.unexpected(m);
        return this.onAck(m);
      case 'presence':
        if (!this.welcomed) this.unexpected(m);
        return this.onPresence(m);
      case 'error':
      case 'close':
        return this.peerEnded(m);
      default:
        return this.unexpected(m);
    }
  }

  protected override undecodable(bytes: Uint8Array, error: DecodeError): boolean {
    if (this.welcomed || error.code !== ErrorCode.DecodeVersion) return false;
    const header = peekFrameHeader(bytes);
    if (header === undefined || header.type !== 'hello') return false;
    const refusal = versionRefusal(header.version);
    if (refusal === undefined) return false;
    this.refuse(refusal.reason, refusal.message);
    return true;
  }

  private refuse(reason: RefuseReason, message: string): void {
    this.send({ type: 'refuse', channel: this.channel, reason, supportedVersion: SYNC_PROTOCOL_VERSION, message });
    this.end(new SyncProtocolError(SyncErrorCode.Refused, `refused (${reason}): ${message}`, { reason }));
  }

  private onHello(m: HelloMessage): void {
    const src = this.source;
    const refusal = versionRefusal(m.version);
    if (refusal !== undefined) return this.refuse(refusal.reason, refusal.message);
    if (m.keyspace !== src.keyspace) return this.refuse(RefuseReason.BadKeyspace, `this session serves keyspace ${src.keyspace}, not ${m.keyspace}`);
    const allowed = this.authorize === undefined ? true : this.authorize(m.token, m.keyspace, m.replica);
    if (allowed === 'pending') {
      this.awaitingAuthorization = m;
      return;
    }
    if (!allowed) return this.refuse(RefuseReason.Unauthorized, `not authorized for keyspace ${m.keyspace}`);
    this.welcome(m);
  }

  /** Decides how to bring the client up to date, says so, and starts sending. */
  private welcome(m: HelloMessage): void {
    const src = this.source;
    this.welcomed = true;
    this.peer = m.replica;
    const head = src.head();
    let context;
    if (m.resume.mode === 'context') {
      this.mode = 'context';
      context = src.context();
      const d = src.deltaSince(m.resume.context);
      this.startTransfer('delta', d.position, d.bytes, 0);
    } else {
      const r = m.resume;
      // Position 0 of any log holds nothing of it: resuming at 0 of this one is exact (a
      // client that first synced the origin's empty log and left before its first commit).
      const sameLog = r.logId === src.logId || r.position === 0;
      if (sameLog && r.position >= src.compactedThrough() && r.position <= head) {
        this.mode = 'log';
        this.cursor = r.position;
      } else {
        this.mode = 'snapshot';
        const snap = src.snapshot();
        const checksum = fnv1a32(snap.bytes);
        const t = m.transfer;
        const same = t !== undefined && t.position === snap.position && t.checksum === checksum;
        const offset = same && t.receivedBytes < snap.bytes.length ? t.receivedBytes : 0;
        this.startTransfer('snapshot', snap.position, snap.bytes, offset, checksum);
      }
    }
    this.lastPositionSent = this.cursor;
    this.logId = src.logId;
    this.targetHead = Math.max(head, this.transfer?.position ?? 0);
    this.send({ type: 'welcome', channel: this.channel, replica: src.replicaId, logId: this.logId, head: this.targetHead, mode: this.mode, context });
    this.setStatus(SyncStatus.Syncing);
    this.pump();
  }

  private startTransfer(kind: TransferKind, position: number, bytes: Uint8Array, offset: number, checksum = fnv1a32(bytes)): void {
    this.transfer = { kind, position, bytes, checksum, offset };
  }

  private onDelta(m: DeltaMessage): void {
    this.nextReceived(m.seq, m.bytes.length, 'delta');
    if (m.position !== 0) throw new SyncProtocolError(SyncErrorCode.Unexpected, 'a client delta must not name a log position');
    const delta = decodeReplicaDelta(m.bytes);
    this.emit({ kind: 'deliver', source: DeliverySource.Peer, seq: m.seq, position: 0, delta, bytes: m.bytes, from: this.peer! });
  }

  private onAck(m: AckMessage): void {
    if (!this.flow.ack(m.seq)) {
      throw new SyncProtocolError(SyncErrorCode.OutOfOrder, `ack of ${m.seq}, but only ${this.flow.lastSeq} were sent`);
    }
    this.pump();
  }

  /** Sends what the budget admits: the transfer's chunks first, then log entries. */
  private pump(): void {
    if (!this.welcomed || this.closed) return;
    // Finish the transfer under way (its position is one of the log it started in); follow
    // the log to a new identity; if it was compacted past where that leaves the client (or
    // past a client that was streaming), send the snapshot.
    if (!this.pumpTransfer()) return;
    if (this.source.logId !== this.logId) this.followLog();
    if (this.cursor < this.source.compactedThrough()) {
      const snap = this.source.snapshot();
      this.startTransfer('snapshot', snap.position, snap.bytes, 0);
      if (!this.pumpTransfer()) return;
    }
    assert(this.cursor >= this.source.compactedThrough(), 'a snapshot must reach the compaction point');
    this.pumpLog();
    const caught = !this.caughtUpSent && this.cursor >= this.targetHead;
    if (this.cursor > this.lastPositionSent || caught) {
      // Tells the client how far it is (entries it sent itself are skipped, not echoed).
      this.send({ type: 'progress', channel: this.channel, position: this.cursor, caughtUp: caught });
      this.lastPositionSent = this.cursor;
      if (caught) {
        this.caughtUpSent = true;
        this.setStatus(SyncStatus.Synced);
      }
    }
  }

  /**
   * The source's log is another one now: tell the client before any position of it goes
   * out, and count from its start. Not yet caught up: the target becomes the new log's head.
   */
  private followLog(): void {
    assert(this.transfer === undefined, 'the log changes identity only between transfers');
    this.logId = this.source.logId;
    this.cursor = 0;
    this.lastPositionSent = 0;
    if (!this.caughtUpSent) this.targetHead = this.source.head();
    this.send({ type: 'log', channel: this.channel, logId: this.logId, position: 0 });
  }

  /** Returns true once no transfer is left. */
  private pumpTransfer(): boolean {
    const t = this.transfer;
    if (t === undefined) return true;
    const total = t.bytes.length;
    // A zero-byte transfer cannot exist (every encoded delta has a header).
    assert(total > 0, 'empty transfer');
    while (t.offset < total) {
      const n = Math.min(this.chunkBytes, total - t.offset);
      if (!this.flow.admits(n)) return false;
      const offset = t.offset;
      const bytes = t.bytes.subarray(offset, offset + n);
      this.sendCounted(n, (seq) => ({ type: 'chunk', channel: this.channel, seq, kind: t.kind, position: t.position, totalBytes: total, checksum: t.checksum, offset, bytes }));
      t.offset += n;
    }
    this.transfer = undefined;
    this.cursor = t.position;
    this.lastPositionSent = t.position;
    return true;
  }

  private pumpLog(): void {
    const src = this.source;
    const peer = this.peer;
    // Bounded: every round either advances the cursor or returns.
    for (;;) {
      if (this.cursor >= src.head()) return;
      if (this.flow.inflightBytes > 0 && this.flow.room === 0) return;
      const entries = src.read(this.cursor, Math.max(1, this.flow.room), this.maxEntriesPerRead);
      if (entries.length === 0) return;
      for (const e of entries) {
        assert(e.position > this.cursor, 'log read returned an entry at or before the cursor');
        if (e.origin !== undefined && e.origin === peer) {
          this.cursor = e.position;
          continue;
        }
        if (!this.flow.admits(e.bytes.length)) return;
        const position = e.position;
        const bytes = e.bytes;
        this.sendCounted(bytes.length, (seq) => ({ type: 'delta', channel: this.channel, seq, position, bytes }));
        this.cursor = position;
        this.lastPositionSent = position;
      }
    }
  }
}
