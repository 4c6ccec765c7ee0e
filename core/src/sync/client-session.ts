// The client role of a sync session (browser, or an edge syncing with the origin).
// Handshake with the resume cursor from ClientSyncState; then it sends its unacknowledged
// changes through the in-flight budget, receives the server's log entries, snapshot or
// context delta (validated before they are handed out), acknowledges what its shell
// stored, and reports `synced` only once the local store is loaded AND the server said
// the client has its state as of the handshake. When the server's log changes identity
// mid-session (`log`), the cursor moves to the new log at once (a `cursor` effect), before
// any of its positions arrive.
import type { CausalContext } from '../clock/causal-context.ts';
import type { ReplicaId } from '../clock/replica-id.ts';
import { DeltaEncoder } from '../codec/delta/encoder.ts';
import type { Delta } from '../crdt/delta.ts';
import type { MapStore } from '../crdt/map-store.ts';
import { type DecodeError, ErrorCode, assert } from '../errors.ts';
import { fnv1a32 } from './checksum.ts';
import { ClientSyncState, type PendingDelta, TransferBuffer } from './client-state.ts';
import { DeliverySource, SyncStatus } from './effects.ts';
import { peekFrameHeader } from './codec.ts';
import { RefuseReason, SyncErrorCode, SyncProtocolError } from './errors.ts';
import {
  type AckMessage,
  type ChunkMessage,
  type DeltaMessage,
  type LogMessage,
  MIN_SYNC_PROTOCOL_VERSION,
  type ProgressMessage,
  type Resume,
  SYNC_PROTOCOL_VERSION,
  type SyncMessage,
  type WelcomeMessage,
} from './messages.ts';
import { DEFAULT_HANDSHAKE_TIMEOUT_TICKS, decodeReplicaDelta, SessionRole, type SessionOptions, SyncSession } from './sync-session.ts';

/** What the client session reads from its replica (a Replica satisfies it). */
export interface ClientReplicaView {
  readonly id: ReplicaId;
  contextOf(): CausalContext;
  deltaSince(context: CausalContext): Delta<MapStore>;
}

export interface ClientSessionOptions extends SessionOptions {
  keyspace: string;
  replica: ClientReplicaView;
  state: ClientSyncState;
  token?: string;
  /** 'cursor' (default) resumes from the log position; 'context' sends the full causal context. */
  resume?: 'cursor' | 'context';
  /** True when the local store is already loaded (default false: call localStoreLoaded()). */
  localStoreLoaded?: boolean;
  /** Ticks to wait for `welcome` before giving up (default 30). */
  handshakeTimeoutTicks?: number;
  /** Largest bulk transfer accepted (default 1 GiB). */
  maxTransferBytes?: number;
}

export class ClientSyncSession extends SyncSession {
  readonly keyspace: string;
  readonly state: ClientSyncState;
  /** The server's replica id, once welcomed. */
  serverReplica: ReplicaId | undefined;
  private readonly replica: ClientReplicaView;
  private readonly token: string;
  private readonly resumeMode: 'cursor' | 'context';
  private readonly handshakeTimeoutTicks: number;
  private readonly maxTransferBytes: number;
  private readonly encoder: DeltaEncoder;
  private started: boolean;
  private welcomed: boolean;
  private loaded: boolean;
  private caughtUp: boolean;
  private ticks: number;
  /** The context-exchange delta waiting to be sent (context mode only). */
  private contextDelta: Uint8Array | undefined;
  /** Invariant: pending[0 .. sentCount) of the state have been sent in this session. */
  private sentCount: number;
  /**
   * lsn of the local change sent with each sequence number from seqBase+1 on (0 for the
   * context delta). Invariant: non-decreasing.
   */
  private seqLsn: number[];
  private seqBase: number;
  /** Highest of our sequence numbers the server acknowledged as stored / committed. */
  private storedSeqAcked: number;
  private committedSeq: number;
  /** Highest received sequence number acknowledged back to the server. */
  private storedSeq: number;

  constructor(options: ClientSessionOptions) {
    super(SessionRole.Client, options);
    this.keyspace = options.keyspace;
    this.state = options.state;
    this.serverReplica = undefined;
    this.replica = options.replica;
    this.token = options.token ?? '';
    this.resumeMode = options.resume ?? 'cursor';
    this.handshakeTimeoutTicks = options.handshakeTimeoutTicks ?? DEFAULT_HANDSHAKE_TIMEOUT_TICKS;
    this.maxTransferBytes = options.maxTransferBytes ?? 1 << 30;
    this.encoder = new DeltaEncoder();
    this.started = false;
    this.welcomed = false;
    this.loaded = options.localStoreLoaded ?? false;
    this.caughtUp = false;
    this.ticks = 0;
    this.contextDelta = undefined;
    this.sentCount = 0;
    this.seqLsn = [];
    this.seqBase = 0;
    this.storedSeqAcked = 0;
    this.committedSeq = 0;
    this.storedSeq = 0;
  }

  /** Sends the hello. Call once, after creating the session. */
  start(): void {
    assert(!this.started, 'session already started');
    this.started = true;
    const s = this.state;
    const resume: Resume =
      this.resumeMode === 'context'
        ? { mode: 'context', context: this.replica.contextOf() }
        : { mode: 'cursor', logId: s.logId, position: s.position };
    const transfer = s.transfer === undefined ? undefined : { position: s.transfer.position, checksum: s.transfer.checksum, receivedBytes: s.transfer.receivedBytes };
    this.send({ type: 'hello', channel: this.channel, version: SYNC_PROTOCOL_VERSION, keyspace: this.keyspace, replica: this.replica.id, token: this.token, resume, transfer });
    this.emit({ kind: 'status', status: SyncStatus.Connecting });
  }

  /** The shell finished loading the local replica and its pending changes. */
  localStoreLoaded(): void {
    this.loaded = true;
    this.maybeSynced();
  }

  /**
   * A local change: recorded as pending (the shell persists it) and sent when the in-flight budget
   * has room. Returns the pending record.
   */
  localDelta(delta: Delta<MapStore> | Uint8Array): PendingDelta {
    const bytes = delta instanceof Uint8Array ? delta : this.encoder.encode(delta);
    const p = this.state.addLocal(bytes);
    this.pump();
    return p;
  }

  /** The shell persisted every delivery and chunk up to `seq`: acknowledge them. */
  storedUpTo(seq: number): void {
    if (this.closed) return;
    assert(seq <= this.receivedSeq, `storedUpTo(${seq}) beyond the last received ${this.receivedSeq}`);
    this.noteStored(seq);
    if (seq <= this.storedSeq) return;
    this.storedSeq = seq;
    this.send({ type: 'ack', channel: this.channel, level: 'stored', seq, position: 0 });
  }

  override tick(): void {
    if (this.closed || this.welcomed) return;
    if (++this.ticks >= this.handshakeTimeoutTicks) {
      this.fail(new SyncProtocolError(SyncErrorCode.Timeout, `no welcome after ${this.ticks} ticks`));
    }
  }

  /** Local changes not yet acknowledged as committed (sent or waiting for the in-flight budget). */
  get unacknowledged(): number {
    return this.state.pending.length;
  }

  protected handle(m: SyncMessage): void {
    switch (m.type) {
      case 'welcome':
        if (this.welcomed || !this.started) this.unexpected(m);
        return this.onWelcome(m);
      case 'delta':
        if (!this.welcomed) this.unexpected(m);
        return this.onDelta(m);
      case 'chunk':
        if (!this.welcomed) this.unexpected(m);
        return this.onChunk(m);
      case 'progress':
        if (!this.welcomed) this.unexpected(m);
        return this.onProgress(m);
      case 'log':
        if (!this.welcomed) this.unexpected(m);
        return this.onLog(m);
      case 'ack':
        if (!this.welcomed) this.unexpected(m);
        return this.onAck(m);
      case 'refuse':
        if (this.welcomed) this.unexpected(m);
        return this.peerEnded(m);
      case 'error':
      case 'close':
        return this.peerEnded(m);
      case 'presence':
        if (!this.welcomed) this.unexpected(m);
        return this.onPresence(m);
      case 'hello':
        return this.unexpected(m);
    }
  }

  private onWelcome(m: WelcomeMessage): void {
    this.welcomed = true;
    this.presenceOpen = true;
    this.serverReplica = m.replica;
    const s = this.state;
    if (m.mode === 'log' && m.logId !== s.logId) {
      // Only a client with no cursor yet (position 0) is resumed on a log it did not name.
      if (s.position !== 0) throw new SyncProtocolError(SyncErrorCode.Unexpected, `server resumed log ${m.logId} from a cursor of log ${s.logId}`);
    }
    // A partial transfer is only continued by a snapshot; anything else supersedes it.
    if (m.mode !== 'snapshot') s.transfer = undefined;
    if (m.logId !== s.logId) {
      // A position means nothing in another log: start from 0 there, persisted at once, so
      // a session cut off before the snapshot completes cannot resume a foreign position.
      s.logId = m.logId;
      s.position = 0;
      this.emit({ kind: 'cursor', logId: s.logId, position: 0 });
    }
    if (m.mode === 'context') {
      if (m.context === undefined) throw new SyncProtocolError(SyncErrorCode.Malformed, 'context-mode welcome without a context');
      const d = this.replica.deltaSince(m.context);
      if (!d.isEmpty) this.contextDelta = this.encoder.encode(d);
    }
    this.setStatus(SyncStatus.Syncing);
    this.pump();
  }

  private onDelta(m: DeltaMessage): void {
    this.nextReceived(m.seq, m.bytes.length, 'delta');
    if (this.state.transfer !== undefined && this.state.transfer.receivedBytes > 0) this.inTransfer(m);
    if (m.position <= this.state.position) {
      throw new SyncProtocolError(SyncErrorCode.OutOfOrder, `log position ${m.position} is not after ${this.state.position}`);
    }
    const delta = decodeReplicaDelta(m.bytes);
    this.state.position = m.position;
    this.emit({ kind: 'deliver', source: DeliverySource.Log, seq: m.seq, position: m.position, delta, bytes: m.bytes, from: this.serverReplica! });
  }

  private onChunk(m: ChunkMessage): void {
    this.nextReceived(m.seq, m.bytes.length, 'chunk');
    const s = this.state;
    if (m.totalBytes > this.maxTransferBytes) {
      throw new SyncProtocolError(SyncErrorCode.TooLarge, `transfer of ${m.totalBytes} bytes exceeds ${this.maxTransferBytes}`);
    }
    if (m.offset === 0) {
      s.transfer = new TransferBuffer(m.kind, m.position, m.totalBytes, m.checksum);
    } else {
      const t = s.transfer;
      if (t === undefined || t.kind !== m.kind || t.position !== m.position || t.totalBytes !== m.totalBytes || t.checksum !== m.checksum || t.receivedBytes !== m.offset) {
        throw new SyncProtocolError(SyncErrorCode.OutOfOrder, `chunk at ${m.offset} of transfer @${m.position} does not continue what was received`);
      }
    }
    const t = s.transfer!;
    t.append(m.bytes);
    this.emit({ kind: 'chunk', seq: m.seq, transfer: m.kind, position: m.position, offset: m.offset, totalBytes: m.totalBytes, checksum: m.checksum, bytes: m.bytes });
    if (!t.complete) return;
    const bytes = t.assemble();
    let delta: Delta<MapStore>;
    try {
      if (fnv1a32(bytes) !== t.checksum) throw new SyncProtocolError(SyncErrorCode.Malformed, `transfer @${t.position} does not match its checksum`);
      delta = decodeReplicaDelta(bytes);
    } finally {
      s.transfer = undefined; // a transfer that does not decode is dropped, not resumed
    }
    s.position = t.position;
    const source = t.kind === 'snapshot' ? DeliverySource.Snapshot : DeliverySource.Context;
    this.emit({ kind: 'deliver', source, seq: m.seq, position: t.position, delta, bytes, from: this.serverReplica! });
    this.emit({ kind: 'cursor', logId: s.logId, position: s.position });
  }

  /** The server's log took another identity: positions from here on are of `m.logId`. */
  private onLog(m: LogMessage): void {
    const s = this.state;
    if (s.transfer !== undefined && s.transfer.receivedBytes > 0) this.inTransfer(m);
    if (m.logId === s.logId) throw new SyncProtocolError(SyncErrorCode.Unexpected, `log ${m.logId} is the one the cursor already names`);
    s.logId = m.logId;
    s.position = m.position;
    s.transfer = undefined;
    this.emit({ kind: 'cursor', logId: s.logId, position: s.position });
  }

  /**
   * A frame of a version this build does not read. Before the welcome, a refusal from an
   * older server (its prefix is readable in any version) is reported as the refusal it is.
   */
  protected override undecodable(bytes: Uint8Array, error: DecodeError): boolean {
    if (this.welcomed || error.code !== ErrorCode.DecodeVersion) return false;
    const header = peekFrameHeader(bytes);
    if (header === undefined || header.type !== 'refuse' || header.version >= MIN_SYNC_PROTOCOL_VERSION) return false;
    const message = `the server speaks sync protocol version ${header.version}; this client speaks ${MIN_SYNC_PROTOCOL_VERSION}..${SYNC_PROTOCOL_VERSION}`;
    this.end(new SyncProtocolError(SyncErrorCode.Refused, `refused (${RefuseReason.VersionTooNew}): ${message}`, { reason: RefuseReason.VersionTooNew, remote: true }));
    return true;
  }

  private onProgress(m: ProgressMessage): void {
    if (this.state.transfer !== undefined && this.state.transfer.receivedBytes > 0) this.inTransfer(m);
    if (m.position < this.state.position) {
      throw new SyncProtocolError(SyncErrorCode.OutOfOrder, `progress to ${m.position} is behind ${this.state.position}`);
    }
    if (m.position > this.state.position) {
      this.state.position = m.position;
      this.emit({ kind: 'cursor', logId: this.state.logId, position: m.position });
    }
    if (m.caughtUp && !this.caughtUp) {
      this.caughtUp = true;
      this.maybeSynced();
    }
  }

  private onAck(m: AckMessage): void {
    if (!this.flow.ack(m.seq)) {
      throw new SyncProtocolError(SyncErrorCode.OutOfOrder, `ack of ${m.seq}, but only ${this.flow.lastSeq} were sent`);
    }
    if (m.seq > this.storedSeqAcked) {
      this.storedSeqAcked = m.seq;
      const lsn = this.lsnThrough(m.seq);
      if (lsn > 0) this.emit({ kind: 'acknowledged', level: 'stored', lsn });
    }
    if (m.level === 'committed' && m.seq > this.committedSeq) {
      this.committedSeq = m.seq;
      const lsn = this.lsnThrough(m.seq);
      this.forgetThrough(m.seq);
      if (lsn > 0) {
        const n = this.state.acknowledge(lsn);
        this.sentCount -= n;
        this.emit({ kind: 'acknowledged', level: 'committed', lsn });
      }
    }
    this.pump();
  }

  /**
   * The largest lsn sent with a sequence number up to `seq` (0 when none). O(1): lsns
   * grow with the sequence numbers; only the context delta (lsn 0) breaks the run, and it
   * is always the first message sent.
   */
  private lsnThrough(seq: number): number {
    const i = Math.min(seq - this.seqBase, this.seqLsn.length) - 1;
    return i < 0 ? 0 : this.seqLsn[i]!;
  }

  private forgetThrough(seq: number): void {
    const n = Math.min(seq - this.seqBase, this.seqLsn.length);
    if (n <= 0) return;
    this.seqLsn.splice(0, n);
    this.seqBase += n;
  }

  /** Sends what the budget admits: the context delta first, then pending changes in order. */
  private pump(): void {
    if (!this.welcomed || this.closed) return;
    if (this.contextDelta !== undefined) {
      const bytes = this.contextDelta;
      if (!this.flow.admits(bytes.length)) return;
      this.contextDelta = undefined;
      this.sendCounted(bytes.length, (seq) => ({ type: 'delta', channel: this.channel, seq, position: 0, bytes }));
      this.seqLsn.push(0);
    }
    const pending = this.state.pending;
    while (this.sentCount < pending.length) {
      const p = pending[this.sentCount]!;
      if (!this.flow.admits(p.bytes.length)) return;
      this.sendCounted(p.bytes.length, (seq) => ({ type: 'delta', channel: this.channel, seq, position: 0, bytes: p.bytes }));
      this.seqLsn.push(p.lsn);
      this.sentCount++;
    }
  }

  private maybeSynced(): void {
    if (this.loaded && this.caughtUp && this.statusValue === SyncStatus.Syncing) this.setStatus(SyncStatus.Synced);
  }

  private inTransfer(m: SyncMessage): never {
    throw new SyncProtocolError(SyncErrorCode.OutOfOrder, `${m.type} in the middle of a transfer`);
  }
}
