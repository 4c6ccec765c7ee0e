// The errors of the document layer that are not decode or argument errors.
import { NeuroplexError } from '../errors.ts';

export const DocErrorCode = {
  /** More than one change or delta listener threw while one change was being announced. */
  ListenersFailed: 'LISTENERS_FAILED',
} as const;
export type DocErrorCode = (typeof DocErrorCode)[keyof typeof DocErrorCode];

/**
 * Several listeners threw for one op or one applied delta. Thrown only after every listener
 * heard every change; `errors` holds what each threw, in call order. (A single throwing
 * listener's error is rethrown as it is.)
 */
export class ListenersFailedError extends NeuroplexError {
  declare readonly code: typeof DocErrorCode.ListenersFailed;
  readonly errors: readonly unknown[];
  constructor(errors: readonly unknown[]) {
    super(DocErrorCode.ListenersFailed, `${errors.length} listeners threw: ${errors.map(describe).join('; ')}`, { cause: errors[0] });
    this.name = 'ListenersFailedError';
    this.errors = errors;
  }
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
