// The error classes of the core. Every error the core throws at a boundary is a
// NeuroplexError with a literal `code`; shells map codes to HTTP statuses or close codes.

export const ErrorCode = {
  /** Input bytes are not a valid message of the expected format. */
  DecodeTruncated: 'DECODE_TRUNCATED',
  DecodeVarint: 'DECODE_VARINT',
  DecodeVersion: 'DECODE_VERSION',
  DecodeType: 'DECODE_TYPE',
  DecodeTooLarge: 'DECODE_TOO_LARGE',
  DecodeInvalid: 'DECODE_INVALID',
  /** A key holds a different CRDT type than the operation needs. */
  TypeMismatch: 'TYPE_MISMATCH',
  /** An argument is outside what the API accepts. */
  InvalidArgument: 'INVALID_ARGUMENT',
  /** An internal invariant does not hold: a bug, never bad input. */
  AssertionFailed: 'ASSERTION_FAILED',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class NeuroplexError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NeuroplexError';
    this.code = code;
  }
}

export type DecodeErrorCode =
  | typeof ErrorCode.DecodeTruncated
  | typeof ErrorCode.DecodeVarint
  | typeof ErrorCode.DecodeVersion
  | typeof ErrorCode.DecodeType
  | typeof ErrorCode.DecodeTooLarge
  | typeof ErrorCode.DecodeInvalid;

/** Bytes that are not a valid message. Thrown before anything is applied. */
export class DecodeError extends NeuroplexError {
  declare readonly code: DecodeErrorCode;
  /** Byte offset where decoding stopped. */
  readonly offset: number;
  constructor(code: DecodeErrorCode, message: string, offset: number) {
    super(code, `${message} (at byte ${offset})`);
    this.name = 'DecodeError';
    this.offset = offset;
  }
}

/** An operation on a key that holds another CRDT type. */
export class TypeMismatchError extends NeuroplexError {
  declare readonly code: typeof ErrorCode.TypeMismatch;
  readonly key: string;
  constructor(key: string, expected: string, actual: string) {
    super(ErrorCode.TypeMismatch, `key ${JSON.stringify(key)} holds a ${actual}, not a ${expected}`);
    this.name = 'TypeMismatchError';
    this.key = key;
  }
}

export class InvalidArgumentError extends NeuroplexError {
  declare readonly code: typeof ErrorCode.InvalidArgument;
  constructor(message: string) {
    super(ErrorCode.InvalidArgument, message);
    this.name = 'InvalidArgumentError';
  }
}

export class AssertionError extends NeuroplexError {
  declare readonly code: typeof ErrorCode.AssertionFailed;
  constructor(message: string) {
    super(ErrorCode.AssertionFailed, message);
    this.name = 'AssertionError';
  }
}

/** Throws an AssertionError when an invariant does not hold. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}
