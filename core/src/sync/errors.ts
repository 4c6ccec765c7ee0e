// Errors of the sync protocol. A session that meets a malformed, out-of-order, unexpected or
// unauthorized message ends with a SyncProtocolError; the same codes travel in `error`
// messages so both ends report one cause. Shells map codes to close codes.
import { NeuroplexError } from '../errors.ts';

export const SyncErrorCode = {
  /** Bytes that do not decode (frame or the delta inside it). */
  Malformed: 'SYNC_MALFORMED',
  /** A sequence number, log position or chunk offset out of order. */
  OutOfOrder: 'SYNC_OUT_OF_ORDER',
  /** A message the session's state does not allow (a delta before the handshake, ...). */
  Unexpected: 'SYNC_UNEXPECTED',
  /** The peer refused the handshake (its reason is on the error). */
  Refused: 'SYNC_REFUSED',
  /** Something bigger than the session's limits. */
  TooLarge: 'SYNC_TOO_LARGE',
  /** The handshake did not finish in time. */
  Timeout: 'SYNC_TIMEOUT',
  /** The peer ended the session with an error message. */
  PeerError: 'SYNC_PEER_ERROR',
  /** The peer closed the session without an error. */
  Closed: 'SYNC_CLOSED',
} as const;
export type SyncErrorCode = (typeof SyncErrorCode)[keyof typeof SyncErrorCode];

/** Wire order of the codes (index = the byte on the wire); append only. */
export const SYNC_ERROR_CODES: readonly SyncErrorCode[] = [
  SyncErrorCode.Malformed,
  SyncErrorCode.OutOfOrder,
  SyncErrorCode.Unexpected,
  SyncErrorCode.Refused,
  SyncErrorCode.TooLarge,
  SyncErrorCode.Timeout,
  SyncErrorCode.PeerError,
  SyncErrorCode.Closed,
];

export const RefuseReason = {
  VersionTooNew: 'version-too-new',
  Unauthorized: 'unauthorized',
  UnknownKeyspace: 'unknown-keyspace',
  BadKeyspace: 'bad-keyspace',
  TooManyChannels: 'too-many-channels',
  /** The peer speaks a protocol version this side no longer accepts. */
  VersionTooOld: 'version-too-old',
} as const;
export type RefuseReason = (typeof RefuseReason)[keyof typeof RefuseReason];

/** Wire order of the refusal reasons (index = the byte on the wire); append only. */
export const REFUSE_REASONS: readonly RefuseReason[] = [
  RefuseReason.VersionTooNew,
  RefuseReason.Unauthorized,
  RefuseReason.UnknownKeyspace,
  RefuseReason.BadKeyspace,
  RefuseReason.TooManyChannels,
  RefuseReason.VersionTooOld,
];

export class SyncProtocolError extends NeuroplexError {
  declare readonly code: SyncErrorCode;
  /** Set when code is SYNC_REFUSED. */
  readonly reason: RefuseReason | undefined;
  /** True when the peer reported the error (it was not found here). */
  readonly remote: boolean;
  constructor(code: SyncErrorCode, message: string, options?: { reason?: RefuseReason; remote?: boolean; cause?: unknown }) {
    super(code, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SyncProtocolError';
    this.reason = options?.reason;
    this.remote = options?.remote ?? false;
  }
}
