// Errors of the key-value state machine's inputs. A command that breaks a limit is rejected
// before it is proposed (or when its bytes are decoded), never half applied; outcomes that
// depend on the state (missing key, failed precondition, wrong type) are results, not errors.
import { NeuroplexError } from '../errors.ts';

export const KvErrorCode = {
  /** A key that is empty or not valid UTF-8 text. */
  KeyInvalid: 'KEY_INVALID',
  /** A key longer than the key limit (1,024 bytes of UTF-8). */
  KeyTooLarge: 'KEY_TOO_LARGE',
  /** A value (or a batch) larger than the configured limit. */
  ValueTooLarge: 'VALUE_TOO_LARGE',
  /** A value that is not plain JSON, a version that is not an integer, an empty batch... */
  CommandInvalid: 'COMMAND_INVALID',
} as const;
export type KvErrorCode = (typeof KvErrorCode)[keyof typeof KvErrorCode];

export class KvLimitError extends NeuroplexError {
  declare readonly code: KvErrorCode;
  constructor(code: KvErrorCode, message: string) {
    super(code, message);
    this.name = 'KvLimitError';
  }
}
