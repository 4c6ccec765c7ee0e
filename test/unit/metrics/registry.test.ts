import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MetricsRegistry } from '../../../server/src/metrics/registry.ts';
import { HistogramData } from '../../../server/src/metrics/histogram.ts';

describe('MetricsRegistry', () => {
  it('renders counters, gauges and histograms in Prometheus text format', () => {
    const r = new MetricsRegistry();
    const c = r.counter('neuroplex_requests_total', 'Requests served.');
    c.inc(1, { route: 'get', status: '200' });
    c.inc(2, { status: '200', route: 'get' });
    c.inc(1, { route: 'put', status: '409' });
    r.gauge('neuroplex_raft_term', 'Current term.', () => 7);
    const h = r.histogram('neuroplex_latency_ms', 'Latency.', [1, 10]);
    h.observe(0.5);
    h.observe(5);
    h.observe(50);
    expect(r.render()).toBe(
      [
        '# HELP neuroplex_requests_total Requests served.',
        '# TYPE neuroplex_requests_total counter',
        'neuroplex_requests_total{route="get",status="200"} 3',
        'neuroplex_requests_total{route="put",status="409"} 1',
        '# HELP neuroplex_raft_term Current term.',
        '# TYPE neuroplex_raft_term gauge',
        'neuroplex_raft_term 7',
        '# HELP neuroplex_latency_ms Latency.',
        '# TYPE neuroplex_latency_ms histogram',
        'neuroplex_latency_ms_bucket{le="1"} 1',
        'neuroplex_latency_ms_bucket{le="10"} 2',
        'neuroplex_latency_ms_bucket{le="+Inf"} 3',
        'neuroplex_latency_ms_sum 55.5',
        'neuroplex_latency_ms_count 3',
        '',
      ].join('\n'),
    );
    expect(() => r.counter('neuroplex_requests_total', 'again')).toThrow(/twice/);
    expect(() => c.inc(-1)).toThrow();
  });

  it('renders a collected counter from the count it reads, and refuses to increment it', () => {
    const r = new MetricsRegistry();
    let readies = 3;
    const c = r.counter('neuroplex_raft_readies_total', 'Readys taken.', () => readies);
    expect(r.render()).toContain('# TYPE neuroplex_raft_readies_total counter\nneuroplex_raft_readies_total 3\n');
    readies = 10;
    expect(c.get()).toBe(10);
    expect(r.render()).toContain('neuroplex_raft_readies_total 10\n');
    expect(() => c.inc()).toThrow(/collected/);
  });

  it('escapes label values', () => {
    const r = new MetricsRegistry();
    r.counter('x_total', 'x').inc(1, { k: 'a"b\\c\nd' });
    expect(r.render()).toContain('x_total{k="a\\"b\\\\c\\nd"} 1');
  });

  it('histogram quantiles stay within one bucket of the exact quantile (against sorting)', () => {
    const bounds = [1, 2, 4, 8, 16, 32, 64, 128];
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0.01, max: 100, noNaN: true }), { minLength: 1, maxLength: 300 }), fc.constantFrom(0.5, 0.95, 0.99), (xs, q) => {
        const h = new HistogramData(bounds);
        for (const x of xs) h.observe(x);
        const sorted = [...xs].sort((a, b) => a - b);
        const exact = sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
        const est = h.quantile(q);
        const bucket = (v: number) => bounds.findIndex((b) => v <= b);
        expect(Math.abs(bucket(est) - bucket(exact))).toBeLessThanOrEqual(1);
      }),
      { seed: 424242, numRuns: 200 },
    );
    expect(new HistogramData(bounds).quantile(0.5)).toBeNaN();
  });
});
