// A dot names one event: the `counter`-th event of replica `replica` (counters start at 1).
import type { ReplicaId } from './replica-id.ts';

export interface Dot {
  readonly replica: ReplicaId;
  readonly counter: number;
}

export function dot(replica: ReplicaId, counter: number): Dot {
  return { replica, counter };
}

export function dotEquals(a: Dot, b: Dot): boolean {
  return a.replica === b.replica && a.counter === b.counter;
}

/** Total order used for deterministic tie-breaks: by replica, then counter. */
export function compareDots(a: Dot, b: Dot): number {
  return a.replica === b.replica ? a.counter - b.counter : a.replica - b.replica;
}

export function formatDot(d: Dot): string {
  return `${d.replica}:${d.counter}`;
}
