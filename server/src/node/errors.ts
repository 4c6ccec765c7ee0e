// Errors a node gives for requests it cannot serve now. Only the HTTP shell maps them to
// statuses (503 for unavailable, 504 for timeout).
import { NeuroplexError } from '../../../core/src/errors.ts';

export const NodeErrorCode = {
  NoQuorum: 'NO_QUORUM',
  NotReady: 'NOT_READY',
  Timeout: 'TIMEOUT',
  MembershipUnavailable: 'MEMBERSHIP_UNAVAILABLE',
  Stopped: 'NODE_STOPPED',
} as const;
export type NodeErrorCode = (typeof NodeErrorCode)[keyof typeof NodeErrorCode];

/** The node cannot serve the request now (no quorum, not ready, stopped); retry later. */
export class NodeUnavailableError extends NeuroplexError {
  declare readonly code: Exclude<NodeErrorCode, 'TIMEOUT'>;
  constructor(code: Exclude<NodeErrorCode, 'TIMEOUT'>, message: string) {
    super(code, message);
    this.name = 'NodeUnavailableError';
  }
}

/**
 * The request did not finish within its timeout. A timed-out write may still be committed
 * later (as in etcd); a client that must know retries with the same Idempotency-Key.
 */
export class NodeTimeoutError extends NeuroplexError {
  declare readonly code: typeof NodeErrorCode.Timeout;
  constructor(message: string) {
    super(NodeErrorCode.Timeout, message);
    this.name = 'NodeTimeoutError';
  }
}
