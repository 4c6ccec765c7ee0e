// Maps error codes to HTTP statuses and the error JSON of the Origin HTTP API:
// {"error":{"code","message",...}}. Only this shell knows about statuses.
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { NeuroplexError } from '../../../core/src/errors.ts';

export const HttpErrorCode = {
  BadRequest: 'BAD_REQUEST',
  BadJson: 'BAD_JSON',
  BodyTooLarge: 'BODY_TOO_LARGE',
  KeyNotFound: 'KEY_NOT_FOUND',
  RouteNotFound: 'ROUTE_NOT_FOUND',
  PreconditionFailed: 'PRECONDITION_FAILED',
  NotImplemented: 'NOT_IMPLEMENTED',
  Internal: 'INTERNAL',
} as const;

const STATUS: Record<string, ContentfulStatusCode> = {
  BAD_REQUEST: 400,
  BAD_JSON: 400,
  KEY_INVALID: 400,
  COMMAND_INVALID: 400,
  INVALID_ARGUMENT: 400,
  DECODE_TRUNCATED: 400,
  DECODE_VARINT: 400,
  DECODE_VERSION: 400,
  DECODE_TYPE: 400,
  DECODE_TOO_LARGE: 413,
  DECODE_INVALID: 400,
  KEY_TOO_LARGE: 413,
  VALUE_TOO_LARGE: 413,
  BODY_TOO_LARGE: 413,
  KEY_NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  PRECONDITION_FAILED: 409,
  TYPE_MISMATCH: 409,
  NO_QUORUM: 503,
  NOT_READY: 503,
  NODE_STOPPED: 503,
  MEMBERSHIP_UNAVAILABLE: 503,
  TIMEOUT: 504,
  NOT_IMPLEMENTED: 501,
  INTERNAL: 500,
};

export function statusOf(code: string): ContentfulStatusCode {
  return STATUS[code] ?? 500;
}

/** An error the handlers throw to answer with a given code (status from the table above). */
export class ApiError extends NeuroplexError {
  readonly extra: Record<string, unknown>;
  constructor(code: string, message: string, extra: Record<string, unknown> = {}) {
    super(code, message);
    this.name = 'ApiError';
    this.extra = extra;
  }
}

export function errorBody(code: string, message: string, extra: Record<string, unknown> = {}): { error: Record<string, unknown> } {
  return { error: { code, message, ...extra } };
}

export function errorResponse(c: Context, code: string, message: string, extra: Record<string, unknown> = {}): Response {
  return c.json(errorBody(code, message, extra), statusOf(code));
}

/** The app's onError: typed errors keep their code; anything else is a 500 without details. */
export function toErrorResponse(err: unknown, c: Context): Response {
  if (err instanceof ApiError) return errorResponse(c, err.code, err.message, err.extra);
  if (err instanceof NeuroplexError) return errorResponse(c, err.code, err.message);
  return errorResponse(c, HttpErrorCode.Internal, 'internal error');
}
