// The simulated network: per-message loss, duplication, delay (hence reordering), and
// partitions (symmetric groups, or one-way cuts), all drawn from the run's seeded PRNG.
// Time is virtual (ticks). Raft messages travel as encoded bytes, so nodes share no objects.
import type { Prng } from '../../core/src/testing/prng.ts';

export interface NetworkFaults {
  lossP: number;
  dupP: number;
  minDelayTicks: number;
  maxDelayTicks: number;
}

export const HEALTHY: NetworkFaults = { lossP: 0, dupP: 0, minDelayTicks: 1, maxDelayTicks: 1 };

export interface Envelope<T> {
  from: number;
  to: number;
  payload: T;
}

/** Upper bound on messages in flight; beyond it new messages are dropped (a full queue). */
const MAX_IN_FLIGHT = 200_000;

export class SimNetwork<T> {
  faults: NetworkFaults;
  private readonly prng: Prng;
  private readonly buckets = new Map<number, Envelope<T>[]>();
  /** Directed cuts "from>to". */
  private readonly cuts = new Set<string>();
  private inFlight = 0;
  sent = 0;
  dropped = 0;

  constructor(prng: Prng, faults: NetworkFaults) {
    this.prng = prng;
    this.faults = faults;
  }

  send(now: number, from: number, to: number, payload: T): void {
    this.sent++;
    // Delays are at least one tick: the bucket for `now` has already been delivered.
    if (this.cuts.has(`${from}>${to}`) || this.inFlight >= MAX_IN_FLIGHT || this.prng.chance(this.faults.lossP)) {
      this.dropped++;
      return;
    }
    const copies = this.prng.chance(this.faults.dupP) ? 2 : 1;
    for (let k = 0; k < copies; k++) {
      const at = now + Math.max(1, this.prng.range(this.faults.minDelayTicks, this.faults.maxDelayTicks));
      let b = this.buckets.get(at);
      if (b === undefined) this.buckets.set(at, (b = []));
      b.push({ from, to, payload });
      this.inFlight++;
    }
  }

  /** Messages due at `now`, shuffled (same-tick reordering); cuts apply at delivery too. */
  deliver(now: number): Envelope<T>[] {
    const b = this.buckets.get(now);
    if (b === undefined) return [];
    this.buckets.delete(now);
    this.inFlight -= b.length;
    for (let i = b.length - 1; i > 0; i--) {
      const j = this.prng.int(i + 1);
      const t = b[i]!;
      b[i] = b[j]!;
      b[j] = t;
    }
    return b.filter((e) => !this.cuts.has(`${e.from}>${e.to}`));
  }

  /** Splits `nodes` into groups that cannot talk to each other (both directions). */
  partition(groups: number[][]): void {
    for (let i = 0; i < groups.length; i++) {
      for (let j = 0; j < groups.length; j++) {
        if (i === j) continue;
        for (const a of groups[i]!) for (const b of groups[j]!) this.cuts.add(`${a}>${b}`);
      }
    }
  }

  /** Cuts one direction only: `from` can no longer reach `to` (asymmetric partition). */
  cutOneWay(from: number, to: number): void {
    this.cuts.add(`${from}>${to}`);
  }

  heal(): void {
    this.cuts.clear();
  }

  hasCuts(): boolean {
    return this.cuts.size > 0;
  }
}
