// How late a node's event loop runs a timer due every INTERVAL_MS: a turn that holds the
// loop (a long apply, a synchronous snapshot, a GC pause, a process waiting for a core)
// delays every request behind it, and shows up here as a large sample. Observed into a
// histogram so a scraper can take quantiles over any window by differencing two scrapes.
import type { Histogram } from './registry.ts';

const INTERVAL_MS = 10;

/** Starts sampling into `histogram`; returns a stop function. The timer does not hold the process. */
export function trackEventLoopLag(histogram: Histogram): () => void {
  let expected = performance.now() + INTERVAL_MS;
  const timer = setInterval(() => {
    const now = performance.now();
    histogram.observe(Math.max(0, now - expected));
    expected = now + INTERVAL_MS;
  }, INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
