// Reconnect delays: exponential growth with "equal jitter" (half fixed, half random), so a
// fleet of clients cut off together does not come back in lockstep. Randomness is passed
// in, so tests can pin it.
export interface BackoffOptions {
  /** First delay in ms (default 100). */
  readonly initialMs?: number;
  /** Largest delay in ms (default 10,000). */
  readonly maxMs?: number;
  /** Growth per attempt (default 2). */
  readonly factor?: number;
  /** A number in [0, 1) (default Math.random). */
  readonly random?: () => number;
}

export class Backoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly factor: number;
  private readonly random: () => number;
  /** Attempts since the last reset. */
  attempt = 0;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 100;
    this.maxMs = options.maxMs ?? 10_000;
    this.factor = options.factor ?? 2;
    this.random = options.random ?? Math.random;
  }

  /** The delay before the next attempt; counts the attempt. */
  next(): number {
    const ceiling = Math.min(this.maxMs, this.initialMs * this.factor ** Math.min(this.attempt, 30));
    this.attempt++;
    return ceiling / 2 + (ceiling / 2) * this.random();
  }

  reset(): void {
    this.attempt = 0;
  }
}
