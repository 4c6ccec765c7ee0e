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

/**
 * Calls `offline` and `online` on the target's `offline`/`online` events (a browser's
 * window); returns what stops following them. Without a target, nothing is followed.
 */
export function followNetworkEvents(target: EventTarget | null | undefined, offline: () => void, online: () => void): () => void {
  if (target === null || target === undefined) return () => {};
  target.addEventListener('offline', offline);
  target.addEventListener('online', online);
  return () => {
    target.removeEventListener('offline', offline);
    target.removeEventListener('online', online);
  };
}

export function bytesToHex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

/**
 * An error the client recovers from or cannot act on (a throwing listener, a failed save):
 * to `onError` when the app gave one, else to the console, as a browser reports a throwing
 * event listener. Never silent, never thrown into the client's own work.
 */
export function reportError(failure: unknown, onError: ((error: Error) => void) | undefined): void {
  const error = failure instanceof Error ? failure : new Error(String(failure));
  if (onError !== undefined) onError(error);
  else console.error('neuroplex:', error);
}

/** Calls `listener`; an error it throws goes to reportError. */
export function callListener<E>(listener: (event: E) => void, event: E, onError: ((error: Error) => void) | undefined): void {
  try {
    listener(event);
  } catch (e) {
    reportError(e, onError);
  }
}
