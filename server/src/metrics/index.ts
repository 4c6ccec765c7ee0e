// Prometheus metrics: registry, counters, gauges, histograms with quantile estimates.
export { MetricsRegistry, Counter, Gauge, Histogram, type Labels } from './registry.ts';
export { HistogramData, LATENCY_BUCKETS_MS } from './histogram.ts';
export { trackEventLoopLag } from './event-loop-lag.ts';
