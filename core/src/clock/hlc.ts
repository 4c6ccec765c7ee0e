// Hybrid logical clock (Kulkarni et al., 2014). Physical time is passed in by the shell,
// so the clock is deterministic under simulation. A timestamp never goes backwards and
// is always ahead of every timestamp this clock has observed.

export interface HlcTimestamp {
  /** Milliseconds since the Unix epoch, as the clock believes it. */
  readonly wallMs: number;
  /** Orders events within one millisecond. */
  readonly logical: number;
}

export const ZERO_TIMESTAMP: HlcTimestamp = { wallMs: 0, logical: 0 };

export function compareTimestamps(a: HlcTimestamp, b: HlcTimestamp): number {
  return a.wallMs !== b.wallMs ? a.wallMs - b.wallMs : a.logical - b.logical;
}

export class HybridLogicalClock {
  /** Invariant: (wallMs, logical) only grows. */
  private wallMs = 0;
  private logical = 0;

  constructor(start: HlcTimestamp = ZERO_TIMESTAMP) {
    this.wallMs = start.wallMs;
    this.logical = start.logical;
  }

  /** A new timestamp for a local event at physical time `physicalMs`. */
  now(physicalMs: number): HlcTimestamp {
    if (physicalMs > this.wallMs) {
      this.wallMs = physicalMs;
      this.logical = 0;
    } else {
      this.logical++;
    }
    return { wallMs: this.wallMs, logical: this.logical };
  }

  /** Moves the clock past a timestamp received from elsewhere. */
  observe(remote: HlcTimestamp, physicalMs: number): void {
    const wall = Math.max(this.wallMs, remote.wallMs, physicalMs);
    if (wall === this.wallMs && wall === remote.wallMs) this.logical = Math.max(this.logical, remote.logical) + 1;
    else if (wall === this.wallMs) this.logical++;
    else if (wall === remote.wallMs) this.logical = remote.logical + 1;
    else this.logical = 0;
    this.wallMs = wall;
  }

  /** The last timestamp issued or observed. */
  peek(): HlcTimestamp {
    return { wallMs: this.wallMs, logical: this.logical };
  }
}
