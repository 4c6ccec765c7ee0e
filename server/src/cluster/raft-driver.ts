// The one Ready loop of an origin node (the shell around the pure RawNode). Time enters
// through a tick timer; everything else (peer messages, proposals, reads) is stepped into the
// RawNode and kicks the loop.
//
// With asynchronous storage writes (RaftConfig.asyncStorageWrites, what RaftNode uses), the
// loop never waits for a disk flush to take the next Ready. A plain Ready is buffered into the
// WAL and the log mirror at once, its sync started (the WAL's group commit lets many Readys
// share one fdatasync), its committed entries applied and reads answered at once (they are
// durable here by construction: Raft hands out only entries up to the durable index), and
// acceptReady() lets the loop go on. Its messages leave at once if this node was leader when
// the Ready was taken (Raft thesis §10.2.1: the leader counts its own entries only once they
// are durable, so its appends may overlap its own flush); anything else a node says promises
// durability (an ack, a vote), so it waits for that Ready's sync and leaves after the
// messages of every earlier Ready. When a sync finishes, appendDurable(last entry) tells Raft
// (a leader may commit), the held messages leave, and the loop is kicked. A Ready that changes
// term or vote, or installs a snapshot (rd.barrier), waits for every write in flight and is
// then handled the synchronous way: persist, send, apply, advance().
//
// Without the mode (the original contract), each Ready is persisted before the next is taken.
// A leader still sends before its own flush, which is safe only because of the loop: Raft
// counts the leader's entries at once, but whatever a commit that counts them can cause comes
// out of a later Ready, taken after this one is durable. Committed entries that earlier
// Readys made durable are applied while this Ready's write runs.
import type { MemoryStorage } from '../../../core/src/raft/storage.ts';
import type { RawNode, Ready } from '../../../core/src/raft/raw-node.ts';
import { StateType } from '../../../core/src/raft/config.ts';
import type { Message } from '../../../core/src/raft/types.ts';
import type { WriteAheadLog } from '../wal/wal.ts';
import type { PeerTransport } from './peer-transport.ts';
import { bufferWrites, persist } from './raft-log.ts';

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
  /**
   * Called before each Ready is taken: the node proposes the writes that arrived since the
   * last one as one batch (one append per follower, not one per write).
   */
  readonly beforeReady?: () => void;
  /** The loop failed (the disk did): the node must stop serving. */
  readonly onFatal: (cause: unknown) => void;
}

/** One plain Ready's writes in flight (asynchronous mode), oldest first. */
interface InFlight {
  /** The Ready's last entry, reported by appendDurable once durable; null if none. */
  readonly lastIndex: number;
  readonly lastTerm: number;
  /** Messages that leave once this write (and every earlier one) is durable. */
  readonly held: readonly Message[];
  done: boolean;
}

export class RaftDriver {
  private readonly o: RaftDriverOptions;
  private readonly asyncWrites: boolean;
  private ticker: NodeJS.Timeout | null = null;
  private running = false;
  private scheduled = false;
  private stopped = false;
  /** fsync latencies in ms, for metrics (the caller drains it). */
  readonly syncLatenciesMs: number[] = [];
  /** Term and vote as last persisted (a Ready that changes them persists before it sends). */
  private persistedTerm: number;
  private persistedVote: number;
  private readonly inFlight: InFlight[] = [];
  /** Waiting for every write in flight to be durable (a barrier Ready). */
  private settledWaiters: (() => void)[] = [];
  /**
   * Readys whose messages left before their persist finished, whose committed entries were
   * applied while an earlier write was in flight, and most writes in flight at once.
   */
  readonly stats = { readies: 0, sentBeforePersist: 0, appliedBeforePersist: 0, maxInFlight: 0 };

  constructor(options: RaftDriverOptions) {
    this.o = options;
    this.asyncWrites = options.node.raft.raftLog.asyncWrites;
    const hs = options.storage.initialState().hardState;
    this.persistedTerm = hs.term;
    this.persistedVote = hs.vote;
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
      while (!this.stopped) {
        this.o.beforeReady?.();
        if (!node.hasReady()) break;
        const rd = node.ready();
        this.stats.readies++;
        if (!this.asyncWrites) {
          await this.handleInOrder(rd);
          continue;
        }
        if (rd.barrier) {
          await this.writesSettled();
          if (this.stopped) return;
          await this.handleInOrder(rd);
          continue;
        }
        this.handleAsync(rd);
      }
    } catch (cause) {
      this.fail(cause);
    } finally {
      this.running = false;
    }
  }

  /** Asynchronous mode, a plain Ready: write, send or hold, apply, accept; no waiting. */
  private handleAsync(rd: Ready): void {
    const node = this.o.node;
    const leader = node.raft.state === StateType.Leader;
    if (leader && rd.messages.length > 0) {
      this.stats.sentBeforePersist++;
      this.o.transport.send(rd.messages);
    }
    bufferWrites(this.o.wal, this.o.storage, rd);
    if (this.inFlight.length > 0 && rd.committedEntries.length > 0) this.stats.appliedBeforePersist++;
    this.o.onReady(rd);
    node.acceptReady();
    const held = leader ? [] : rd.messages;
    const last = rd.entries.length > 0 ? rd.entries[rd.entries.length - 1]! : null;
    if (last === null && held.length === 0) return;
    const w: InFlight = { lastIndex: last?.index ?? 0, lastTerm: last?.term ?? 0, held, done: !rd.mustSync };
    this.inFlight.push(w);
    if (this.inFlight.length > this.stats.maxInFlight) this.stats.maxInFlight = this.inFlight.length;
    if (w.done) {
      this.release();
      return;
    }
    const t0 = performance.now();
    // A failure in release() (Raft, the transport) stops the node too, like a failed sync.
    this.o.wal
      .sync()
      .then(() => {
        this.syncLatenciesMs.push(performance.now() - t0);
        w.done = true;
        this.release();
      })
      .catch((cause: unknown) => this.fail(cause));
  }

  /** Reports durable writes to Raft in order and sends what they held. */
  private release(): void {
    if (this.stopped) return;
    const node = this.o.node;
    let released = false;
    while (this.inFlight.length > 0 && this.inFlight[0]!.done) {
      const w = this.inFlight.shift()!;
      if (w.lastIndex > 0) node.appendDurable(w.lastIndex, w.lastTerm);
      if (w.held.length > 0) this.o.transport.send(w.held);
      released = true;
    }
    if (this.inFlight.length === 0 && this.settledWaiters.length > 0) this.settle();
    if (released) this.kick();
  }

  private writesSettled(): Promise<void> {
    if (this.inFlight.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.settledWaiters.push(resolve));
  }

  private settle(): void {
    const waiters = this.settledWaiters;
    this.settledWaiters = [];
    for (const w of waiters) w();
  }

  /** The original contract: persist, send, apply, advance (a leader sends first, see above). */
  private async handleInOrder(rd: Ready): Promise<void> {
    const node = this.o.node;
    const hs = rd.hardState;
    const sendFirst =
      node.raft.state === StateType.Leader && rd.snapshot === null && (hs === null || (hs.term === this.persistedTerm && hs.vote === this.persistedVote));
    if (sendFirst && rd.messages.length > 0) {
      this.stats.sentBeforePersist++;
      this.o.transport.send(rd.messages);
    }
    // Entries this Ready commits that an earlier Ready already made durable here (and a
    // quorum holds) may be applied and answered while this Ready's own write runs; entries
    // it commits that it also appends wait for it (a single-voter group).
    const lastCommitted = rd.committedEntries.length === 0 ? 0 : rd.committedEntries[rd.committedEntries.length - 1]!.index;
    const applyFirst = rd.snapshot === null && (rd.entries.length === 0 || lastCommitted < rd.entries[0]!.index);
    const t0 = performance.now();
    // persist() buffers into the WAL and the log mirror synchronously, then waits for the
    // fdatasync: the apply below sees the log as this Ready leaves it.
    const persisting = persist(this.o.wal, this.o.storage, this.o.snapshotDir, rd);
    if (applyFirst) {
      persisting.catch(() => {}); // awaited below; this only keeps it from being "unhandled" if onReady throws
      this.stats.appliedBeforePersist++;
      this.o.onReady(rd);
    }
    await persisting;
    if (rd.mustSync) this.syncLatenciesMs.push(performance.now() - t0);
    if (hs !== null) {
      this.persistedTerm = hs.term;
      this.persistedVote = hs.vote;
    }
    if (this.stopped) return;
    if (!sendFirst) this.o.transport.send(rd.messages);
    if (!applyFirst) this.o.onReady(rd);
    node.advance();
  }

  private fail(cause: unknown): void {
    if (this.stopped) return;
    this.stop();
    this.o.onFatal(cause);
  }

  /** Stops the loop: writes still in flight finish in the WAL, but nothing more is sent or applied. */
  stop(): void {
    this.stopped = true;
    if (this.ticker !== null) clearInterval(this.ticker);
    this.ticker = null;
    this.settle();
  }
}
