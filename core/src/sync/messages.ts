// The sync protocol's messages: a discriminated union on `type`. Every message names the
// channel it belongs to, so many keyspaces share one connection, each with its own
// handshake and authorization. codec.ts turns these into bytes and back.
//
// A session, client's view:
//   hello ──▶                       (version, keyspace, replica, token, resume cursor)
//         ◀── welcome | refuse
//   delta(seq) ──▶  ◀── ack(stored | committed, seq, log position)
//         ◀── delta(seq, position) | chunk(seq, transfer) | progress(position, caughtUp)
//   ack(stored, seq) ──▶            (frees the server's in-flight budget)
//         ◀── log(logId, position)  (the log the session streams took another identity:
//                                    positions from here on are of that log)
//   error | close  either way ends the channel.
//   presence ──▶  ◀── presence       (ephemeral, never stored; see presence.ts)
import type { CausalContext } from '../clock/causal-context.ts';
import type { ReplicaId } from '../clock/replica-id.ts';
import { RefuseReason, type SyncErrorCode } from './errors.ts';

/**
 * The protocol version this build speaks; also the first byte of every frame. 2 added the
 * `log` message (a v1 client could not follow a log that changes identity).
 */
export const SYNC_PROTOCOL_VERSION = 2;
/** The oldest version this build accepts; an older hello is refused (`version-too-old`). */
export const MIN_SYNC_PROTOCOL_VERSION = 2;

/** Why a server refuses a hello of `version`, or undefined when this build speaks it. */
export function versionRefusal(version: number): { readonly reason: RefuseReason; readonly message: string } | undefined {
  if (version > SYNC_PROTOCOL_VERSION) {
    return { reason: RefuseReason.VersionTooNew, message: `protocol version ${version} is newer than this server's ${SYNC_PROTOCOL_VERSION}` };
  }
  if (version < MIN_SYNC_PROTOCOL_VERSION) {
    return { reason: RefuseReason.VersionTooOld, message: `protocol version ${version} is older than this server's oldest, ${MIN_SYNC_PROTOCOL_VERSION}: upgrade the client` };
  }
  return undefined;
}

export type ChannelId = number;

/**
 * How a client asks to resume. `cursor` is the common path: the server's log id and the
 * last log position the client holds; its size does not depend on how many replicas
 * ever wrote. `context` is the fallback (replica-to-replica, or a client that has state
 * but lost its cursor): the full causal context.
 */
export type Resume =
  | { readonly mode: 'cursor'; readonly logId: string; readonly position: number }
  | { readonly mode: 'context'; readonly context: CausalContext };

/** A bulk transfer the client holds part of: it resumes at `receivedBytes`. */
export interface PartialTransfer {
  readonly position: number;
  /** fnv1a32 of the whole transfer: resumed only against the very same bytes. */
  readonly checksum: number;
  readonly receivedBytes: number;
}

/** What the server will send after `welcome`. */
export const SyncMode = {
  /** Log entries after the client's cursor. */
  Log: 'log',
  /** A snapshot (chunks), then the log after it: the cursor was behind compaction or unknown. */
  Snapshot: 'snapshot',
  /** Context exchange: the server's context rides on `welcome`; what the client lacks comes as chunks. */
  Context: 'context',
} as const;
export type SyncMode = (typeof SyncMode)[keyof typeof SyncMode];
export const SYNC_MODES: readonly SyncMode[] = [SyncMode.Log, SyncMode.Snapshot, SyncMode.Context];

export const AckLevel = {
  /** The receiving server (edge or origin node) has it durably. */
  Stored: 'stored',
  /** The origin quorum has it in the log (implies stored). */
  Committed: 'committed',
} as const;
export type AckLevel = (typeof AckLevel)[keyof typeof AckLevel];

export const TransferKind = { Snapshot: 'snapshot', Delta: 'delta' } as const;
export type TransferKind = (typeof TransferKind)[keyof typeof TransferKind];

export interface HelloMessage {
  readonly type: 'hello';
  readonly channel: ChannelId;
  readonly version: number;
  readonly keyspace: string;
  readonly replica: ReplicaId;
  /** Credential checked by the server's `authorize`; '' when none. */
  readonly token: string;
  readonly resume: Resume;
  readonly transfer: PartialTransfer | undefined;
}

export interface WelcomeMessage {
  readonly type: 'welcome';
  readonly channel: ChannelId;
  readonly replica: ReplicaId;
  /** Identity of the server's log; a cursor is only meaningful within one log. */
  readonly logId: string;
  /** The log position the client will have once it has caught up. */
  readonly head: number;
  readonly mode: SyncMode;
  /** The server's context, only in context mode. */
  readonly context: CausalContext | undefined;
}

export interface RefuseMessage {
  readonly type: 'refuse';
  readonly channel: ChannelId;
  readonly reason: RefuseReason;
  readonly supportedVersion: number;
  readonly message: string;
}

export interface DeltaMessage {
  readonly type: 'delta';
  readonly channel: ChannelId;
  /** Per session and direction: 1, 2, 3, ... with no gaps. */
  readonly seq: number;
  /** The server's log position of this delta; 0 from a client. */
  readonly position: number;
  /** An encoded delta (core/src/codec/delta). */
  readonly bytes: Uint8Array;
}

export interface AckMessage {
  readonly type: 'ack';
  readonly channel: ChannelId;
  readonly level: AckLevel;
  /** Every delta or chunk with a sequence number up to this one. */
  readonly seq: number;
  /**
   * For committed: the log position at which the last of them is committed, in the log the
   * session streams (0 when that position lies in a log not yet announced by `log`); else 0.
   */
  readonly position: number;
}

export interface ProgressMessage {
  readonly type: 'progress';
  readonly channel: ChannelId;
  /** The client now holds everything up to this log position. */
  readonly position: number;
  /** True once the client has the server's state as of the handshake. */
  readonly caughtUp: boolean;
}

export interface ChunkMessage {
  readonly type: 'chunk';
  readonly channel: ChannelId;
  readonly seq: number;
  readonly kind: TransferKind;
  /** Log position the whole transfer brings the client to; identifies the transfer. */
  readonly position: number;
  readonly totalBytes: number;
  /** fnv1a32 of the whole transfer, checked by the receiver once complete. */
  readonly checksum: number;
  readonly offset: number;
  readonly bytes: Uint8Array;
}

/**
 * Server to client: the log this session streams changed identity (an origin keyspace's
 * empty log became its real log at the first commit; a log rebuilt under a new id). From
 * this message on, every position the server names is one of log `logId`, and the client
 * now holds that log's state through `position` (0 when the server cannot map what the
 * client holds onto the new log: it then streams the new log from its start, or sends a
 * snapshot). Sent between transfers, never inside one, and only naming a log other than
 * the one the session streamed so far. The client moves its cursor to (logId, position) at
 * once, so a cursor never pairs one log's id with another log's position.
 */
export interface LogMessage {
  readonly type: 'log';
  readonly channel: ChannelId;
  readonly logId: string;
  readonly position: number;
}

export interface ErrorMessage {
  readonly type: 'error';
  readonly channel: ChannelId;
  readonly code: SyncErrorCode;
  readonly message: string;
}

export interface CloseMessage {
  readonly type: 'close';
  readonly channel: ChannelId;
  readonly message: string;
}

/**
 * Ephemeral per-keyspace state of one peer (a cursor, a name): relayed, never stored or
 * logged. A client sends its own; a relay (an origin node, an edge) sends each peer's on
 * behalf of it. `state` is one encoded JSON value (codec/json-value.ts), at most
 * MAX_PRESENCE_BYTES; undefined means the peer left. Re-sent as a heartbeat: a peer not
 * heard from within the receiver's timeout is dropped.
 */
export interface PresenceMessage {
  readonly type: 'presence';
  readonly channel: ChannelId;
  readonly peer: ReplicaId;
  readonly state: Uint8Array | undefined;
}

export type SyncMessage =
  | HelloMessage
  | WelcomeMessage
  | RefuseMessage
  | DeltaMessage
  | AckMessage
  | ProgressMessage
  | ChunkMessage
  | ErrorMessage
  | CloseMessage
  | PresenceMessage
  | LogMessage;

export type SyncMessageType = SyncMessage['type'];

export const isHello = (m: SyncMessage): m is HelloMessage => m.type === 'hello';
export const isWelcome = (m: SyncMessage): m is WelcomeMessage => m.type === 'welcome';
export const isRefuse = (m: SyncMessage): m is RefuseMessage => m.type === 'refuse';
export const isDelta = (m: SyncMessage): m is DeltaMessage => m.type === 'delta';
export const isAck = (m: SyncMessage): m is AckMessage => m.type === 'ack';
export const isProgress = (m: SyncMessage): m is ProgressMessage => m.type === 'progress';
export const isChunk = (m: SyncMessage): m is ChunkMessage => m.type === 'chunk';
export const isError = (m: SyncMessage): m is ErrorMessage => m.type === 'error';
export const isClose = (m: SyncMessage): m is CloseMessage => m.type === 'close';
export const isPresence = (m: SyncMessage): m is PresenceMessage => m.type === 'presence';
export const isLog = (m: SyncMessage): m is LogMessage => m.type === 'log';
