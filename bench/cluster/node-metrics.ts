// Per-phase quantiles from a node's /metrics histograms: scrape before and after a phase,
// subtract the cumulative bucket counts, and estimate quantiles from what the phase added
// (histogram_quantile's linear interpolation, so as coarse as the buckets: ~2x apart).
import { HistogramData } from '../../server/src/metrics/histogram.ts';

/** Cumulative bucket counts per histogram name (unlabelled histograms only). */
export type Scrape = Map<string, { bounds: number[]; cumulative: number[] }>;

export async function scrape(url: string): Promise<Scrape> {
  const out: Scrape = new Map();
  const text = await fetch(`${url}/metrics`).then((r) => r.text()).catch(() => '');
  for (const line of text.split('\n')) {
    const m = /^(\w+)_bucket\{le="([^"]+)"\} (\S+)$/.exec(line);
    if (m === null) continue;
    let h = out.get(m[1]!);
    if (h === undefined) out.set(m[1]!, (h = { bounds: [], cumulative: [] }));
    if (m[2] !== '+Inf') h.bounds.push(Number(m[2]));
    h.cumulative.push(Number(m[3]));
  }
  return out;
}

/** The q-quantiles (ms) of what `name` observed between two scrapes; NaN when nothing was. */
export function phaseQuantiles(before: Scrape, after: Scrape, name: string, qs: readonly number[]): number[] {
  const a = after.get(name);
  if (a === undefined) return qs.map(() => Number.NaN);
  const b = before.get(name);
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
