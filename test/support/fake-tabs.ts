// Fakes of the Web Locks API and BroadcastChannel for tests of tabs sharing one keyspace
// (browser/src/tab-coordinator.ts) in Node: exclusive FIFO locks, and channels that clone
// each message and deliver it on a later turn (or hold it until release()).
import type { BroadcastChannelLike, LockManagerLike, TabEnvironment } from '../../browser/src/tab-coordinator.ts';

/** Exclusive locks by name with a FIFO queue, released when the callback's promise settles. */
export class FakeLocks implements LockManagerLike {
  private readonly held = new Set<string>();
  private readonly queues = new Map<string, (() => void)[]>();
  request(name: string, a: unknown, b?: unknown): Promise<unknown> {
    const options = (typeof a === 'function' ? {} : a) as { ifAvailable?: boolean };
    const callback = (typeof a === 'function' ? a : b) as (lock: unknown) => Promise<void>;
    const run = async (): Promise<void> => {
      this.held.add(name);
      try {
        await callback({ name });
      } finally {
        this.held.delete(name);
        this.queues.get(name)?.shift()?.();
      }
    };
    if (!this.held.has(name)) return run();
    if (options.ifAvailable === true) return callback(null);
    return new Promise((resolve) => {
      const q = this.queues.get(name) ?? [];
      q.push(() => resolve(run()));
      this.queues.set(name, q);
    });
  }
}

/** Channels by name; messages are cloned and delivered on a later turn; `hold` queues them. */
export class FakeBus {
  hold = false;
  private readonly held: (() => void)[] = [];
  readonly channels = new Set<FakeChannel>();
  deliver(from: FakeChannel, message: unknown): void {
    const copy = structuredClone(message);
    const send = (): void => {
      for (const c of this.channels) if (c !== from && c.name === from.name) setTimeout(() => c.onmessage?.({ data: copy }), 0);
    };
    if (this.hold) this.held.push(send);
    else send();
  }
  release(): void {
    this.hold = false;
    for (const f of this.held.splice(0)) f();
  }
}

export class FakeChannel implements BroadcastChannelLike {
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  constructor(
    readonly bus: FakeBus,
    readonly name: string,
  ) {
    bus.channels.add(this);
  }
  /** Set by crash(): sends nothing, receives nothing (a tab that died without a word). */
  private dead = false;
  postMessage(message: unknown): void {
    if (!this.dead) this.bus.deliver(this, message);
  }
  close(): void {
    this.bus.channels.delete(this);
  }
  crash(): void {
    this.dead = true;
    this.close();
  }
}

export function environment(): { env: TabEnvironment; bus: FakeBus } {
  const bus = new FakeBus();
  const locks = new FakeLocks();
  return { env: { locks, BroadcastChannel: class extends FakeChannel { constructor(name: string) { super(bus, name); } } }, bus };
}
