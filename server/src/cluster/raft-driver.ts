// The one Ready loop of an origin node (the shell around the pure RawNode): persist, send,
// apply, advance, in that order, never two at once. Time enters through a tick timer;
// everything else (peer messages, proposals, reads) is stepped into the RawNode and kicks
// the loop.
//
// A leader sends before it persists (Raft thesis §10.2.1): its appends reach followers while
// its own fdatasync runs, so a commit costs one disk flush in time instead of two. This is
// safe because of the loop, not because of Raft's counting: Raft counts the leader's own
// entries at once, but whatever a commit that counts them can cause (an applied entry, an
// answer to a client, a message carrying the new commit index) comes out of a later Ready,
// and no later Ready is taken before this one is durable. A Ready that changes term or vote,
// or installs a snapshot, is persisted first as before (a vote must never leave unpersisted).
//
// Likewise, committed entries that earlier Readys made durable are applied (and answered)
// while this Ready's write runs: a commit then waits for one fdatasync on the leader and
// one on a follower, in parallel, not for the leader's next one as well.
import type { MemoryStorage } from '../../../core/src/raft/storage.ts';
import type { RawNode, Ready } from '../../../core/src/raft/raw-node.ts';
import { StateType } from '../../../core/src/raft/config.ts';
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
  /**
   * Called before each Ready is taken: the node proposes the writes that arrived since the
   * last one as one batch (one append per follower, not one per write).
   */
  readonly beforeReady?: () => void;
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
  /** Term and vote as last persisted (a Ready that changes them persists before it sends). */
  private persistedTerm: number;
  private persistedVote: number;
  /** Readys whose messages left before their persist finished (tests, metrics). */
  readonly stats = { readies: 0, sentBeforePersist: 0, appliedBeforePersist: 0 };

  constructor(options: RaftDriverOptions) {
    this.o = options;
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
        const hs = rd.hardState;
        const sendFirst =
          node.raft.state === StateType.Leader && rd.snapshot === null && (hs === null || (hs.term === this.persistedTerm && hs.vote === this.persistedVote));
        if (sendFirst && rd.messages.length > 0) {
          this.stats.sentBeforePersist++;
          this.o.transport.send(rd.messages);
        }
        // Entries this Ready commits that an earlier Ready already made durable here (and a
        // quorum holds) may be applied and answered while this Ready's own write runs;
        // entries it commits that it also appends wait for it (a single-voter group).
        const lastCommitted = rd.committedEntries.length === 0 ? 0 : rd.committedEntries[rd.committedEntries.length - 1]!.index;
        const applyFirst = rd.snapshot === null && (rd.entries.length === 0 || lastCommitted < rd.entries[0]!.index);
        // 1. Durable before anything that depends on it: applying what this Ready appends,
        // and (except for a leader's own appends, above) sending.
        const t0 = performance.now();
        // persist() buffers into the WAL and the log mirror synchronously, then waits for
        // the fdatasync: the apply below sees the log as this Ready leaves it.
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
        // 2. Send.
        if (!sendFirst) this.o.transport.send(rd.messages);
        // 3. Apply and answer reads.
        if (!applyFirst) this.o.onReady(rd);
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
