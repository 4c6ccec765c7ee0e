// The event-loop lag sampler sees a turn that holds the loop: a 60 ms busy turn shows up as
// a sample of about that size, and an idle loop observes only small ones.
import { describe, expect, it } from 'vitest';
import { trackEventLoopLag } from '../../../server/src/metrics/event-loop-lag.ts';
import { MetricsRegistry } from '../../../server/src/metrics/registry.ts';

describe('trackEventLoopLag', () => {
  it('records a turn that held the loop', async () => {
    const h = new MetricsRegistry().histogram('lag_ms', 'test');
    const stop = trackEventLoopLag(h);
    try {
      await new Promise((r) => setTimeout(r, 30));
      const t0 = performance.now();
      while (performance.now() - t0 < 60); // bounded busy wait: holds the loop 60 ms
      await new Promise((r) => setTimeout(r, 30));
      expect(h.data()!.count).toBeGreaterThan(1);
      expect(h.quantile(1)).toBeGreaterThanOrEqual(32); // the 32–64 ms bucket or above
    } finally {
      stop();
    }
  });
});
