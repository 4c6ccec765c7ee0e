// A small Prometheus registry: counters, gauges and histograms, optionally labelled, rendered
// in the text exposition format (version 0.0.4) for GET /metrics.
import { HistogramData, LATENCY_BUCKETS_MS } from './histogram.ts';

export type Labels = Readonly<Record<string, string>>;
const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

function labelKey(labels: Labels | undefined): string {
  if (labels === undefined) return '';
  const keys = Object.keys(labels).sort();
  return keys.map((k) => `${k}="${escapeLabel(labels[k]!)}"`).join(',');
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

abstract class Metric {
  constructor(
    readonly name: string,
    readonly help: string,
  ) {
    if (!NAME.test(name)) throw new RangeError(`bad metric name ${name}`);
  }
  abstract readonly kind: 'counter' | 'gauge' | 'histogram';
  abstract render(out: string[]): void;
}

/**
 * A metric of one number per label set. It may instead read a number kept elsewhere (a
 * component's stats) when rendered: `collect`, which stands for the unlabelled value.
 */
abstract class SampledMetric extends Metric {
  protected readonly values = new Map<string, number>();
  protected readonly collect: (() => number) | undefined;
  constructor(name: string, help: string, collect?: () => number) {
    super(name, help);
    this.collect = collect;
  }
  get(labels?: Labels): number {
    if (this.collect !== undefined && labels === undefined) return this.collect();
    return this.values.get(labelKey(labels)) ?? 0;
  }
  render(out: string[]): void {
    if (this.collect !== undefined) out.push(`${this.name} ${formatNumber(this.collect())}`);
    else if (this.values.size === 0) out.push(`${this.name} 0`);
    for (const [k, v] of this.values) out.push(`${this.name}${k === '' ? '' : `{${k}}`} ${formatNumber(v)}`);
  }
}

export class Counter extends SampledMetric {
  readonly kind = 'counter';
  inc(by = 1, labels?: Labels): void {
    if (this.collect !== undefined) throw new TypeError(`counter ${this.name} is collected, not incremented`);
    if (by < 0) throw new RangeError('a counter only goes up');
    const k = labelKey(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
}

export class Gauge extends SampledMetric {
  readonly kind = 'gauge';
  set(value: number, labels?: Labels): void {
    this.values.set(labelKey(labels), value);
  }
}

export class Histogram extends Metric {
  readonly kind = 'histogram';
  private readonly bounds: readonly number[];
  private readonly series = new Map<string, HistogramData>();
  constructor(name: string, help: string, bounds: readonly number[] = LATENCY_BUCKETS_MS) {
    super(name, help);
    this.bounds = bounds;
  }
  observe(value: number, labels?: Labels): void {
    const k = labelKey(labels);
    let h = this.series.get(k);
    if (h === undefined) {
      h = new HistogramData(this.bounds);
      this.series.set(k, h);
    }
    h.observe(value);
  }
  data(labels?: Labels): HistogramData | undefined {
    return this.series.get(labelKey(labels));
  }
  /** p50 = quantile(0.5) etc.; NaN without observations. */
  quantile(q: number, labels?: Labels): number {
    return this.series.get(labelKey(labels))?.quantile(q) ?? Number.NaN;
  }
  render(out: string[]): void {
    for (const [k, h] of this.series) {
      const sep = k === '' ? '' : ',';
      let cumulative = 0;
      for (let i = 0; i < h.bounds.length; i++) {
        cumulative += h.counts[i]!;
        out.push(`${this.name}_bucket{${k}${sep}le="${formatNumber(h.bounds[i]!)}"} ${cumulative}`);
      }
      cumulative += h.counts[h.bounds.length]!;
      out.push(`${this.name}_bucket{${k}${sep}le="+Inf"} ${cumulative}`);
      const braces = k === '' ? '' : `{${k}}`;
      out.push(`${this.name}_sum${braces} ${formatNumber(h.sum)}`);
      out.push(`${this.name}_count${braces} ${h.count}`);
    }
  }
}

export class MetricsRegistry {
  private readonly metrics = new Map<string, Metric>();

  counter(name: string, help: string, collect?: () => number): Counter {
    return this.add(new Counter(name, help, collect));
  }
  gauge(name: string, help: string, collect?: () => number): Gauge {
    return this.add(new Gauge(name, help, collect));
  }
  histogram(name: string, help: string, bounds?: readonly number[]): Histogram {
    return this.add(new Histogram(name, help, bounds));
  }

  /** Prometheus text format, one HELP/TYPE block per metric. */
  render(): string {
    const out: string[] = [];
    for (const m of this.metrics.values()) {
      out.push(`# HELP ${m.name} ${m.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`);
      out.push(`# TYPE ${m.name} ${m.kind}`);
      m.render(out);
    }
    return out.join('\n') + '\n';
  }

  private add<M extends Metric>(m: M): M {
    if (this.metrics.has(m.name)) throw new RangeError(`metric ${m.name} registered twice`);
    this.metrics.set(m.name, m);
    return m;
  }
}
