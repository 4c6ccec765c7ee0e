// Errors the edge reports: JSON bodies for HTTP, typed close codes for sockets.
import { NeuroplexError } from '../../core/src/errors.ts';

export const EdgeErrorCode = {
  /** A strong operation needs the origin and it is unreachable or unset. */
  ConsistencyUnavailable: 'CONSISTENCY_UNAVAILABLE',
  BadRequest: 'BAD_REQUEST',
  NotFound: 'NOT_FOUND',
  UpgradeRequired: 'UPGRADE_REQUIRED',
  Internal: 'INTERNAL',
} as const;
export type EdgeErrorCode = (typeof EdgeErrorCode)[keyof typeof EdgeErrorCode];

export class ConsistencyUnavailableError extends NeuroplexError {
  declare readonly code: typeof EdgeErrorCode.ConsistencyUnavailable;
  constructor(message: string, options?: { cause?: unknown }) {
    super(EdgeErrorCode.ConsistencyUnavailable, message, options);
    this.name = 'ConsistencyUnavailableError';
  }
}

/** WebSocket close codes the edge uses (4000-4999 are the application's). */
export const CloseCode = {
  Normal: 1000,
  /** A text frame: the sync protocol is binary. */
  UnsupportedData: 1003,
  /** The replica object was rebuilt and lost this socket's session: reconnect and resume. */
  ServiceRestart: 1012,
  /** A frame that does not decode, or breaks the protocol (SYNC_MALFORMED, OUT_OF_ORDER, ...). */
  ProtocolError: 4400,
  /** The hello's token was refused. */
  Unauthorized: 4401,
  /** A frame beyond the session's limits. */
  TooLarge: 4413,
  /** The edge failed (a bug or storage error), not the client. */
  Internal: 4500,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** The JSON body of every error response. */
export function errorBody(code: EdgeErrorCode, message: string): { error: { code: EdgeErrorCode; message: string } } {
  return { error: { code, message } };
}
