// Typed errors of the write-ahead log. A corrupt record anywhere but the torn tail stops the
// node: silently skipping it could drop an acknowledged write.
import { NeuroplexError } from '../../../core/src/errors.ts';

export const WalErrorCode = {
  Corrupt: 'WAL_CORRUPT',
  Closed: 'WAL_CLOSED',
  Invalid: 'WAL_INVALID_ARGUMENT',
} as const;
export type WalErrorCode = (typeof WalErrorCode)[keyof typeof WalErrorCode];

export class WalCorruptError extends NeuroplexError {
  declare readonly code: typeof WalErrorCode.Corrupt;
  readonly file: string;
  readonly offset: number;
  constructor(file: string, offset: number, reason: string) {
    super(WalErrorCode.Corrupt, `write-ahead log corrupt in ${file} at byte ${offset}: ${reason}`);
    this.name = 'WalCorruptError';
    this.file = file;
    this.offset = offset;
  }
}

export class WalError extends NeuroplexError {
  declare readonly code: typeof WalErrorCode.Closed | typeof WalErrorCode.Invalid;
  constructor(code: typeof WalErrorCode.Closed | typeof WalErrorCode.Invalid, message: string) {
    super(code, message);
    this.name = 'WalError';
  }
}
