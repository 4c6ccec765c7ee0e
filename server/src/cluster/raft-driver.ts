// The one Ready loop of an origin node (the shell around the pure RawNode): persist, send,
// apply, advance, in that order, never two at once. Time enters through a tick timer;
// everything else (peer messages, proposals, reads) is stepped into the RawNode and kicks
// the loop.
import type { MemoryStorage } from '../../../core/src/raft/storage.ts';
import type { RawNode, Ready } from '../../../core/src/raft/raw-node.ts';
import type { Message } from '../../../core/src/raft/types.ts';
import type { WriteAheadLog } from '../wal/wal.ts';
import type { PeerTransport } from './peer-transport.ts';
import { persist } from './raft-log.ts';

export interface RaftDriverOptions {
  readonly node: RawNode;
  readonly wal: WriteAheadLog;
  readonly storage: MemoryStorage;
  readonly transport: PeerTransport;
  readonly tickMs: number;
  /** Where snapshot files go (a snapshot installed from the leader is written here). */
  readonly snapshotDir: string;
  /** Applies committed entries and answers reads (after persisting, before advance). */
  readonly onReady: (rd: Ready) => void;
  /** The loop failed (the disk did): the node must stop serving. */
  readonly onFatal: (cause: unknown) => void;
}

export class RaftDriver {
  private readonly o: RaftDriverOptions;
  private ticker: NodeJS.Timeout | null = null;
  private running = false;
  private scheduled = false;
  private stopped = false;
  /** fsync latencies in ms, for metrics (the caller drains it). */
  readonly syncLatenciesMs: number[] = [];

  constructor(options: RaftDriverOptions) {
    this.o = options;
  }

  start(): void {
    this.ticker = setInterval(() => {
      this.o.node.tick();
      this.kick();
    }, this.o.tickMs);
    this.kick();
  }

  /** Steps a peer's message into Raft. */
  step(m: Message): void {
    if (this.stopped) return;
    this.o.node.step(m);
    this.kick();
  }

  /** Runs the loop soon (coalescing many events into one Ready). */
  kick(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.loop();
    });
  }

  private async loop(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    try {
      const node = this.o.node;
      while (!this.stopped && node.hasReady()) {
        const rd = node.ready();
        // 1. Durable before anything of this Ready leaves the node.
        const t0 = performance.now();
        await persist(this.o.wal, this.o.storage, this.o.snapshotDir, rd);
        if (rd.mustSync) this.syncLatenciesMs.push(performance.now() - t0);
        if (this.stopped) return;
        // 2. Send.
        this.o.transport.send(rd.messages);
        // 3. Apply and answer reads.
        this.o.onReady(rd);
        // 4. Advance.
        node.advance();
      }
    } catch (cause) {
      this.stop();
      this.o.onFatal(cause);
    } finally {
      this.running = false;
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.ticker !== null) clearInterval(this.ticker);
    this.ticker = null;
  }
}
