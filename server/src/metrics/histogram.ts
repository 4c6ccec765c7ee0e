// A Prometheus-style histogram with fixed upper bounds, plus quantiles estimated from the
// buckets the way PromQL's histogram_quantile does (linear inside the bucket), so p50/p95/p99
// cost O(buckets) and no samples are kept.

/** Latency buckets in milliseconds: 0.05 ms to 10 s, roughly x2 apart. */
export const LATENCY_BUCKETS_MS: readonly number[] = [
  0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 10000,
];

export class HistogramData {
  readonly bounds: readonly number[];
  /** counts[i]: observations <= bounds[i] and > bounds[i-1]; the last slot is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[]) {
    for (let i = 1; i < bounds.length; i++) {
      if (!(bounds[i]! > bounds[i - 1]!)) throw new RangeError('histogram bounds must increase');
    }
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const b = this.bounds;
    let lo = 0;
    let hi = b.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (b[mid]! < value) lo = mid + 1;
      else hi = mid;
    }
    this.counts[lo]!++;
    this.sum += value;
    this.count++;
  }

  /** Estimated q-quantile (0 < q < 1); NaN when empty. Values past the last bound clamp to it. */
  quantile(q: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = q * this.count;
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      const c = this.counts[i]!;
      if (seen + c >= rank && c > 0) {
        if (i === this.bounds.length) return this.bounds[this.bounds.length - 1]!;
        const lower = i === 0 ? 0 : this.bounds[i - 1]!;
        const upper = this.bounds[i]!;
        return lower + ((upper - lower) * (rank - seen)) / c;
      }
      seen += c;
    }
    return this.bounds[this.bounds.length - 1]!;
  }
}
