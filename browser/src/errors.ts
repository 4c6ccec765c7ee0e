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
  /** A batch (or write) precondition failed at the origin: nothing was applied. */
  Conflict: 'PRECONDITION_FAILED',
  /** More replicas were asked for than the origin cluster has. */
  NotEnoughReplicas: 'NOT_ENOUGH_REPLICAS',
  /** A delta from a peer could not be decoded or does not belong to this keyspace. */
  InvalidDelta: 'INVALID_DELTA',
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

/** A failed `ifVersion` in a batch: `key` is the op that failed, `version` its current one (0: absent). */
export class BatchConflictError extends NeuroplexError {
  declare readonly code: typeof ClientErrorCode.Conflict;
  readonly key: string;
  readonly version: number;
  constructor(key: string, version: number, message: string) {
    super(ClientErrorCode.Conflict, message);
    this.name = 'BatchConflictError';
    this.key = key;
    this.version = version;
  }
}

export class NotEnoughReplicasError extends NeuroplexError {
  declare readonly code: typeof ClientErrorCode.NotEnoughReplicas;
  readonly requested: number;
  readonly available: number;
  constructor(requested: number, available: number) {
    super(ClientErrorCode.NotEnoughReplicas, `asked for ${requested} replicas, the origin cluster has ${available} voting members`);
    this.name = 'NotEnoughReplicasError';
    this.requested = requested;
    this.available = available;
  }
}

export class InvalidDeltaError extends NeuroplexError {
  declare readonly code: typeof ClientErrorCode.InvalidDelta;
  constructor(message: string, options?: { cause?: unknown }) {
    super(ClientErrorCode.InvalidDelta, message, options);
    this.name = 'InvalidDeltaError';
  }
}
