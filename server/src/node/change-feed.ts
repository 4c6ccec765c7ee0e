// Recent committed changes (a bounded ring) and live subscribers, for watch. A watcher asking
// for a version older than the ring gets the current value of every matching key written at
// or after that version instead (deletions in that gap are not replayed), like a compacted
// etcd revision answered from the current state.
import type { KvChange } from '../../../core/src/kv/commands.ts';

export interface FeedSubscriber {
  readonly ks: string;
  readonly prefix: string;
  readonly onChange: (change: KvChange) => void;
}

export class ChangeFeed {
  readonly capacity: number;
  private readonly ring: (KvChange | undefined)[];
  private start = 0;
  private length = 0;
  /** Invariant: every change with version > floorVersion is in the ring. */
  floorVersion: number;
  private readonly subscribers = new Set<FeedSubscriber>();

  constructor(capacity: number, floorVersion: number) {
    this.capacity = capacity;
    this.ring = new Array(capacity);
    this.floorVersion = floorVersion;
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  publish(change: KvChange): void {
    if (this.length === this.capacity) {
      const dropped = this.ring[this.start]!;
      this.floorVersion = dropped.version;
      this.start = (this.start + 1) % this.capacity;
      this.length--;
    }
    this.ring[(this.start + this.length) % this.capacity] = change;
    this.length++;
    for (const s of this.subscribers) {
      if (s.ks !== change.ks || !change.key.startsWith(s.prefix)) continue;
      try {
        s.onChange(change);
      } catch {
        // A failing watcher must not stop the apply loop that publishes; it is dropped.
        this.subscribers.delete(s);
      }
    }
  }

  /** Whether every change with version >= fromVersion is still in the ring. */
  covers(fromVersion: number): boolean {
    return fromVersion > this.floorVersion;
  }

  /** Changes in the ring with version >= fromVersion matching ks/prefix, oldest first. */
  since(ks: string, prefix: string, fromVersion: number): KvChange[] {
    const out: KvChange[] = [];
    for (let i = 0; i < this.length; i++) {
      const c = this.ring[(this.start + i) % this.capacity]!;
      if (c.version >= fromVersion && c.ks === ks && c.key.startsWith(prefix)) out.push(c);
    }
    return out;
  }

  subscribe(s: FeedSubscriber): () => void {
    this.subscribers.add(s);
    return () => this.subscribers.delete(s);
  }
}
