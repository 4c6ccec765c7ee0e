// Per-phase quantiles from a node's /metrics histograms: scrape before and after a phase,
// subtract the cumulative bucket counts, and estimate quantiles from what the phase added
// (histogram_quantile's linear interpolation, so as coarse as the buckets: ~2x apart).
import { HistogramData } from '../../server/src/metrics/histogram.ts';

/**
 * Cumulative bucket counts per histogram name (unlabelled histograms only), and the value
 * of every unlabelled sample (counters, gauges, a histogram's `_count`).
 */
export interface Scrape {
  readonly histograms: Map<string, { bounds: number[]; cumulative: number[] }>;
  readonly values: Map<string, number>;
}

export async function scrape(url: string): Promise<Scrape> {
  const out = new Map<string, { bounds: number[]; cumulative: number[] }>();
  const values = new Map<string, number>();
  const text = await fetch(`${url}/metrics`).then((r) => r.text()).catch(() => '');
  for (const line of text.split('\n')) {
    const plain = /^(\w+) (\S+)$/.exec(line);
    if (plain !== null) values.set(plain[1]!, Number(plain[2]));
    const m = /^(\w+)_bucket\{le="([^"]+)"\} (\S+)$/.exec(line);
    if (m === null) continue;
    let h = out.get(m[1]!);
    if (h === undefined) out.set(m[1]!, (h = { bounds: [], cumulative: [] }));
    if (m[2] !== '+Inf') h.bounds.push(Number(m[2]));
    h.cumulative.push(Number(m[3]));
  }
  return { histograms: out, values };
}

/** How much an unlabelled sample (a counter) grew between two scrapes; NaN if absent. */
export function phaseDelta(before: Scrape, after: Scrape, name: string): number {
  const a = after.values.get(name);
  const b = before.values.get(name);
  return a === undefined || b === undefined ? Number.NaN : a - b;
}

/** The q-quantiles (ms) of what `name` observed between two scrapes; NaN when nothing was. */
export function phaseQuantiles(before: Scrape, after: Scrape, name: string, qs: readonly number[]): number[] {
  const a = after.histograms.get(name);
  if (a === undefined) return qs.map(() => Number.NaN);
  const b = before.histograms.get(name);
  const h = new HistogramData(a.bounds);
  let prev = 0;
  for (let i = 0; i < a.cumulative.length; i++) {
    const cum = a.cumulative[i]! - (b?.cumulative[i] ?? 0);
    h.counts[i] = cum - prev;
    h.count += cum - prev;
    prev = cum;
  }
  return qs.map((q) => +h.quantile(q).toFixed(2));
}
