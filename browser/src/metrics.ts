// What `client.metrics()` reports (the product brief's client metrics), kept in fixed
// memory: latency histograms with log-spaced buckets (no arrays of samples), counters for
// conflicts, and the send times of changes not yet committed (as many as the pending log).
//
// Definitions (also in README.md, "The client"):
// - latency: from an API call to its promise settling, per consistency level. Eventual and
//   causal writes settle once the change is stored locally; strong ones once the origin
//   committed them; batches count as strong.
// - convergence.committedMs: from a local change to the origin's committed acknowledgement
//   of it (changes loaded from storage after a restart are not timed).
// - convergence.remoteVisibleMs: from a remote writer's change to this replica applying
//   it, read from the hybrid-logical-clock stamp register writes carry (the writer's wall
//   clock). Only register and map-field writes carry one; it includes any clock skew between
//   the two devices (exact when both run on one machine, as in the tests).
// - conflicts: a remote write applied to a key whose register (or map field) then holds
//   concurrent values (writes that did not see each other; last-writer-wins picked one),
//   over all remote key changes applied.
import type { HlcTimestamp } from '../../core/src/clock/hlc.ts';
import type { DotStore } from '../../core/src/crdt/dot-store.ts';
import { MapStore } from '../../core/src/crdt/map-store.ts';
import { RegisterStore } from '../../core/src/crdt/register-store.ts';

/** Percentiles of one histogram, in ms (0 when it has no samples). */
export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

export interface ClientMetrics {
  /** Operation latency per consistency level ('batch' = executeBatch). */
  readonly latencyMs: { readonly eventual: LatencySummary; readonly causal: LatencySummary; readonly strong: LatencySummary };
  readonly convergence: { readonly committedMs: LatencySummary; readonly remoteVisibleMs: LatencySummary };
  readonly conflicts: {
    /** Remote key changes that left concurrent values behind (resolved by last-writer-wins). */
    readonly concurrent: number;
    /** Every remote key change applied. */
    readonly remoteWrites: number;
    /** concurrent / remoteWrites (0 before the first remote write). */
    readonly rate: number;
  };
  /** Local changes not yet acknowledged as committed by the origin. */
  readonly unacknowledged: number;
}

// Buckets grow by 2^(1/8) (about 9% apart) from 0.01 ms; 240 of them reach past 10^6 s.
const MIN_MS = 0.01;
const STEPS_PER_DOUBLING = 8;
const BUCKETS = 240;

/** A log-bucketed histogram: fixed memory, quantiles within one bucket (about 9%). */
export class LatencyHistogram {
  private readonly counts = new Uint32Array(BUCKETS);
  private total = 0;
  private maxMs = 0;
  private minMs = Number.POSITIVE_INFINITY;

  record(ms: number): void {
    if (!Number.isFinite(ms)) return;
    const v = Math.max(0, ms);
    this.counts[bucketOf(v)]!++;
    this.total++;
    if (v > this.maxMs) this.maxMs = v;
    if (v < this.minMs) this.minMs = v;
  }

  get count(): number {
    return this.total;
  }

  /** The value under which a fraction `q` of the samples fall (the bucket's upper bound, kept within [min, max]). */
  quantile(q: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(this.maxMs, Math.max(this.minMs, upperBound(i)));
    }
    return this.maxMs;
  }

  summary(): LatencySummary {
    return { count: this.total, p50: this.quantile(0.5), p95: this.quantile(0.95), p99: this.quantile(0.99), max: this.maxMs };
  }
}

function bucketOf(ms: number): number {
  if (ms <= MIN_MS) return 0;
  const i = Math.ceil(Math.log2(ms / MIN_MS) * STEPS_PER_DOUBLING);
  return Math.min(BUCKETS - 1, i);
}

function upperBound(i: number): number {
  return MIN_MS * 2 ** (i / STEPS_PER_DOUBLING);
}

export type LatencyLevel = 'eventual' | 'causal' | 'strong';

/** The client's metrics; `now` is a monotonic ms clock, `wallNow` the wall clock. */
export class MetricsRecorder {
  private readonly latency = { eventual: new LatencyHistogram(), causal: new LatencyHistogram(), strong: new LatencyHistogram() };
  private readonly committed = new LatencyHistogram();
  private readonly remoteVisible = new LatencyHistogram();
  /** Send time of each uncommitted local change by lsn (bounded by the pending log). */
  private readonly sentAt = new Map<number, number>();
  private concurrent = 0;
  private remoteWrites = 0;

  constructor(
    private readonly now: () => number,
    private readonly wallNow: () => number,
  ) {}

  /** Times `op` under `level`: the sample is taken when it settles (success or error). */
  async time<T>(level: LatencyLevel, op: () => Promise<T>): Promise<T> {
    const start = this.now();
    try {
      return await op();
    } finally {
      this.latency[level].record(this.now() - start);
    }
  }

  /** A local change with this lsn was made now. */
  localChange(lsn: number): void {
    this.sentAt.set(lsn, this.now());
  }

  /** The origin committed every local change up to `lsn`. */
  committedThrough(lsn: number): void {
    const t = this.now();
    for (const [l, at] of this.sentAt) {
      if (l > lsn) continue;
      this.committed.record(t - at);
      this.sentAt.delete(l);
    }
  }

  /**
   * A remote delta was applied: `keys` are the keys it changed, `concurrent(key)` says
   * whether the key now holds concurrent values, `store` is the delta's live part.
   */
  remoteApplied(keys: readonly string[], concurrent: (key: string) => boolean, store: DotStore | undefined, ownReplica: number): void {
    for (const k of keys) {
      this.remoteWrites++;
      if (concurrent(k)) this.concurrent++;
    }
    if (store === undefined) return;
    const wall = this.wallNow();
    forEachStamp(store, ownReplica, (stamp) => this.remoteVisible.record(wall - stamp.wallMs));
  }

  snapshot(unacknowledged: number): ClientMetrics {
    return {
      latencyMs: { eventual: this.latency.eventual.summary(), causal: this.latency.causal.summary(), strong: this.latency.strong.summary() },
      convergence: { committedMs: this.committed.summary(), remoteVisibleMs: this.remoteVisible.summary() },
      conflicts: { concurrent: this.concurrent, remoteWrites: this.remoteWrites, rate: this.remoteWrites === 0 ? 0 : this.concurrent / this.remoteWrites },
      unacknowledged,
    };
  }
}

/** Stamps of register values written by other replicas, top level and one map level down. */
function forEachStamp(store: DotStore, ownReplica: number, f: (stamp: HlcTimestamp) => void, depth = 0): void {
  if (store instanceof RegisterStore) {
    for (const v of store.values) if (v.dot.replica !== ownReplica && v.stamp.wallMs > 0) f(v.stamp);
  } else if (store instanceof MapStore && depth < 2) {
    for (const stores of store.fields.values()) for (const s of stores) forEachStamp(s, ownReplica, f, depth + 1);
  }
}
