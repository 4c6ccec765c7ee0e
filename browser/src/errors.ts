// Errors the client throws: each a NeuroplexError with a literal code.
import { NeuroplexError } from '../../core/src/errors.ts';

export const ClientErrorCode = {
  /** A strong operation while no origin can be reached (it fails fast, never queues). */
  ConsistencyUnavailable: 'CONSISTENCY_UNAVAILABLE',
  /** An API the client does not offer yet. */
  NotSupported: 'NOT_SUPPORTED',
  /** The client was closed. */
  Closed: 'CLIENT_CLOSED',
  /** The origin answered a strong operation with an error (its code is kept). */
  Origin: 'ORIGIN_ERROR',
  /** A subscriber fell too far behind and its stream was ended. */
  SubscriptionOverflow: 'SUBSCRIPTION_OVERFLOW',
} as const;
export type ClientErrorCode = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

export class ConsistencyUnavailableError extends NeuroplexError {
  declare readonly code: typeof ClientErrorCode.ConsistencyUnavailable;
  constructor(message: string, options?: { cause?: unknown }) {
    super(ClientErrorCode.ConsistencyUnavailable, message, options);
    this.name = 'ConsistencyUnavailableError';
  }
}

export class NotSupportedError extends NeuroplexError {
  declare readonly code: typeof ClientErrorCode.NotSupported;
  constructor(message: string) {
    super(ClientErrorCode.NotSupported, message);
    this.name = 'NotSupportedError';
  }
}

export class ClientClosedError extends NeuroplexError {
  declare readonly code: typeof ClientErrorCode.Closed;
  constructor(message = 'the client is closed') {
    super(ClientErrorCode.Closed, message);
    this.name = 'ClientClosedError';
  }
}

/** An error answer from the origin's HTTP API: `originCode` is its JSON error code. */
export class OriginError extends NeuroplexError {
  declare readonly code: typeof ClientErrorCode.Origin;
  readonly status: number;
  readonly originCode: string;
  constructor(status: number, originCode: string, message: string) {
    super(ClientErrorCode.Origin, message);
    this.name = 'OriginError';
    this.status = status;
    this.originCode = originCode;
  }
}

export class SubscriptionOverflowError extends NeuroplexError {
  declare readonly code: typeof ClientErrorCode.SubscriptionOverflow;
  constructor(message: string) {
    super(ClientErrorCode.SubscriptionOverflow, message);
    this.name = 'SubscriptionOverflowError';
  }
}
