// Small helpers of the client: timeouts, the level an operation is timed under, clocks, ids.
import type { OperationOptions } from './client-options.ts';
import { ConsistencyUnavailableError } from './errors.ts';
import type { LatencyLevel } from './metrics.ts';

export function levelOf(options: OperationOptions): LatencyLevel {
  return options.consistency ?? 'causal';
}

/** A monotonic ms clock where there is one (browsers, Node), else the wall clock. */
export function monotonicMs(): number {
  return globalThis.performance?.now() ?? Date.now();
}

/** `p`, or a ConsistencyUnavailableError after `ms` (the timer never outlives the race). */
export async function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ConsistencyUnavailableError(message)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function bytesToHex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}
