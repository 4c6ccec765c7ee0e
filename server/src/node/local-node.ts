// A single origin node without Raft: commands get consecutive local log indexes, are made
// durable in the write-ahead log (when given one) with group commit, then applied in order
// through the key-value state machine. It is the real OriginNode for a one-node deployment
// and for tests; the Raft driver replaces the "append locally" step with replication.
import { decodeCommand, encodeCommand } from '../../../core/src/kv/command-codec.ts';
import type { KvChange, KvCommand, KvEntry, KvResult } from '../../../core/src/kv/commands.ts';
import { DEFAULT_MAX_VALUE_BYTES } from '../../../core/src/kv/limits.ts';
import { KvStateMachine, type ApplyOutcome } from '../../../core/src/kv/state-machine.ts';
import type { KvStorage } from '../../../core/src/kv/storage.ts';
import { encodeSnapshot, restoreSnapshot } from '../../../core/src/kv/snapshot.ts';
import { readSnapshotFile, writeSnapshotFile } from '../storage/snapshot-file.ts';
import type { WriteAheadLog } from '../wal/wal.ts';
import { ChangeFeed } from './change-feed.ts';
import { NodeErrorCode, NodeTimeoutError, NodeUnavailableError } from './errors.ts';
import type { ClusterInfo, MemberInfo, OriginNode, ProposeOptions, ReadOptions, Readiness, WatchSubscription } from './origin-node.ts';

export interface LocalNodeOptions {
  readonly id?: string;
  /** The URL this node's HTTP API answers on (shown in /v1/cluster). */
  readonly url?: string;
  readonly storage: KvStorage;
  /** Without a WAL, commands apply at once and durability is the storage's alone. */
  readonly wal?: WriteAheadLog;
  readonly maxValueBytes?: number;
  readonly maxSessions?: number;
  /** Recent changes kept for watch?fromVersion; default 10,000. */
  readonly feedCapacity?: number;
  /** Where compressed snapshots go; with a WAL, enables snapshots and WAL compaction. */
  readonly snapshotDir?: string;
  /** Take a snapshot (and compact the WAL) every this many applied entries; default 10,000. */
  readonly snapshotEveryEntries?: number;
  /** Called after each command is applied (metrics, snapshot policy). */
  readonly onApplied?: (index: number, outcome: ApplyOutcome) => void;
}

const MAX_VERSION_WAITERS = 10_000;
const REPLAY_GROUP = 256;

interface PendingCommand {
  readonly index: number;
  readonly command: KvCommand;
}

interface VersionWaiter {
  readonly version: number;
  readonly resolve: () => void;
}

/** Bounded wait for a promise: rejects with NodeTimeoutError after `ms`. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new NodeTimeoutError(`${what} did not finish within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

export class LocalNode implements OriginNode {
  readonly id: string;
  /** The URL clients reach this node at; settable once the server knows its port. */
  url: string;
  readonly stateMachine: KvStateMachine;
  private readonly wal: WriteAheadLog | undefined;
  private readonly maxValueBytes: number;
  private readonly feed: ChangeFeed;
  private readonly onApplied: LocalNodeOptions['onApplied'];
  /** Invariant: lastIndex >= stateMachine.appliedIndex; entries between are in `pending`. */
  private lastIndex: number;
  private readonly pending: PendingCommand[] = [];
  private readonly results = new Map<number, KvResult>();
  private versionWaiters: VersionWaiter[] = [];
  private stopped: string | null = null;
  private readonly storage: KvStorage;
  private readonly snapshotDir: string | undefined;
  private readonly snapshotEvery: number;
  private lastSnapshotIndex: number;
  private snapshotting: Promise<void> | null = null;

  private constructor(options: LocalNodeOptions, sm: KvStateMachine) {
    this.id = options.id ?? 'n1';
    this.url = options.url ?? '';
    this.stateMachine = sm;
    this.wal = options.wal;
    this.maxValueBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
    this.onApplied = options.onApplied;
    this.lastIndex = sm.appliedIndex;
    this.feed = new ChangeFeed(options.feedCapacity ?? 10_000, sm.appliedIndex);
    this.storage = options.storage;
    this.snapshotDir = options.snapshotDir;
    this.snapshotEvery = options.snapshotEveryEntries ?? 10_000;
    this.lastSnapshotIndex = options.wal?.snapshot.index ?? 0;
  }

  /**
   * Opens the node: replays WAL entries the state machine has not applied yet (everything
   * in a one-node WAL is committed once it is durable).
   */
  static async open(options: LocalNodeOptions): Promise<LocalNode> {
    const sm = new KvStateMachine(options.storage, {
      ...(options.maxSessions === undefined ? {} : { maxSessions: options.maxSessions }),
      limits: { maxValueBytes: options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES },
    });
    const wal = options.wal;
    if (wal !== undefined) {
      if (wal.snapshot.index > sm.appliedIndex) {
        // The WAL was compacted past what storage holds (storage lost or rolled back):
        // restore the snapshot the WAL points at, then replay the rest.
        if (options.snapshotDir === undefined) {
          throw new NodeUnavailableError(
            NodeErrorCode.NotReady,
            `state machine at ${sm.appliedIndex} is behind the WAL snapshot at ${wal.snapshot.index} and no snapshot directory is set`,
          );
        }
        const snap = readSnapshotFile(options.snapshotDir, wal.snapshot.index);
        restoreSnapshot(sm, options.storage, snap.data);
      }
      if (wal.lastIndex < sm.appliedIndex) {
        // Entries are applied only after they are durable in the WAL, so a WAL that ends
        // before the applied index lost acknowledged records (deleted or replaced).
        throw new NodeUnavailableError(
          NodeErrorCode.NotReady,
          `the WAL ends at ${wal.lastIndex} but the state machine has applied ${sm.appliedIndex}: the WAL was lost or replaced`,
        );
      }
      // Replay in groups: one storage batch per group, as in normal operation.
      const limits = { maxValueBytes: options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES };
      for (let from = sm.appliedIndex + 1; from <= wal.lastIndex; from += REPLAY_GROUP) {
        const group = wal.entries(from, Math.min(from + REPLAY_GROUP, wal.lastIndex + 1));
        sm.applyBatch(group.map((e) => ({ command: decodeCommand(e.data, limits), index: e.index })));
      }
      if (wal.hardState.term === 0) {
        wal.setHardState({ term: 1, vote: options.id ?? 'n1', commit: wal.lastIndex });
        await wal.sync();
      }
    }
    const node = new LocalNode(options, sm);
    node.lastIndex = Math.max(sm.appliedIndex, wal?.lastIndex ?? 0);
    return node;
  }

  get appliedIndex(): number {
    return this.stateMachine.appliedIndex;
  }

  async propose(command: KvCommand, options: ProposeOptions): Promise<KvResult> {
    this.checkRunning();
    const data = encodeCommand(command, { maxValueBytes: this.maxValueBytes }); // KvLimitError on bad input
    const index = ++this.lastIndex;
    this.pending.push({ index, command });
    if (this.wal === undefined) {
      this.applyUpTo(index);
      return this.takeResult(index);
    }
    this.wal.append([{ index, term: 1, type: 0, data }]);
    const done = this.wal.sync().then(
      () => {
        this.applyUpTo(index);
        return this.takeResult(index);
      },
      (cause: unknown) => {
        this.stop(`write-ahead log failed: ${(cause as Error).message}`);
        throw new NodeUnavailableError(NodeErrorCode.Stopped, this.stopped!);
      },
    );
    return withTimeout(done, options.timeoutMs, `write at index ${index}`);
  }

  async read(ks: string, key: string, options: ReadOptions): Promise<KvEntry | undefined> {
    this.checkRunning();
    if (options.consistency === 'causal' && options.minVersion !== undefined && options.minVersion > this.appliedIndex) {
      // Timed-out waiters stay queued until their version is applied: bound them.
      if (this.versionWaiters.length >= MAX_VERSION_WAITERS) {
        throw new NodeUnavailableError(NodeErrorCode.NotReady, `more than ${MAX_VERSION_WAITERS} reads are waiting for versions`);
      }
      await withTimeout(this.waitForVersion(options.minVersion), options.timeoutMs, `read at version ${options.minVersion}`);
    }
    // One node: everything applied is committed and nothing newer is committed elsewhere, so
    // the local state is also the linearizable (strong) answer.
    return this.stateMachine.get(ks, key);
  }

  cluster(): ClusterInfo {
    const applied = this.appliedIndex;
    return {
      id: this.id,
      leader: this.stopped === null ? this.id : null,
      term: 1,
      commitIndex: applied,
      appliedIndex: applied,
      members: [{ id: this.id, url: this.url, learner: false }],
    };
  }

  readiness(): Readiness {
    return this.stopped === null ? { ready: true } : { ready: false, reason: this.stopped };
  }

  watch(ks: string, prefix: string, fromVersion: number | undefined, onChange: (change: KvChange) => void): WatchSubscription {
    this.checkRunning();
    let backlog: KvChange[] = [];
    if (fromVersion !== undefined) {
      if (this.feed.covers(fromVersion)) backlog = this.feed.since(ks, prefix, fromVersion);
      else {
        for (const { key, entry } of this.stateMachine.scan(ks, prefix)) {
          if (entry.version >= fromVersion) backlog.push({ ks, key, version: entry.version, deleted: false, type: entry.type, value: entry.value });
        }
        backlog.sort((a, b) => a.version - b.version);
      }
    }
    // Synchronous from here to subscribe: no apply can slip between backlog and live events.
    for (const c of backlog) onChange(c);
    const unsubscribe = this.feed.subscribe({ ks, prefix, onChange });
    return { close: unsubscribe };
  }

  async addMember(_member: MemberInfo): Promise<ClusterInfo> {
    throw new NodeUnavailableError(NodeErrorCode.MembershipUnavailable, 'this is a single node without Raft: membership cannot change');
  }

  async removeMember(_id: string): Promise<ClusterInfo> {
    throw new NodeUnavailableError(NodeErrorCode.MembershipUnavailable, 'this is a single node without Raft: membership cannot change');
  }

  /** Stops taking requests (shutdown or a fatal storage failure). */
  stop(reason = 'node stopped'): void {
    if (this.stopped === null) this.stopped = reason;
  }

  async close(): Promise<void> {
    this.stop();
    await this.snapshotting;
    await this.wal?.close();
  }

  private checkRunning(): void {
    if (this.stopped !== null) throw new NodeUnavailableError(NodeErrorCode.Stopped, this.stopped);
  }

  private applyUpTo(index: number): void {
    // Everything durable up to `index` is applied in one state machine batch (one engine
    // transaction), strictly in index order.
    let n = 0;
    while (n < this.pending.length && this.pending[n]!.index <= index) n++;
    if (n > 0) {
      const batch = this.pending.splice(0, n);
      const outcomes = this.stateMachine.applyBatch(batch);
      for (let i = 0; i < n; i++) {
        const outcome = outcomes[i]!;
        this.results.set(batch[i]!.index, outcome.result);
        for (const c of outcome.changes) this.feed.publish(c);
        this.onApplied?.(batch[i]!.index, outcome);
      }
      this.maybeSnapshot();
    }
    if (this.versionWaiters.length > 0) {
      const applied = this.appliedIndex;
      const still: VersionWaiter[] = [];
      for (const w of this.versionWaiters) if (w.version <= applied) w.resolve();
      else still.push(w);
      this.versionWaiters = still;
    }
  }

  /** Waits for a snapshot in progress (tests, shutdown). */
  async snapshotSettled(): Promise<void> {
    await this.snapshotting;
  }

  /**
   * Every `snapshotEvery` entries: encode the state (synchronously, so it is exactly the
   * state at `index`), write it compressed and fsync'd, record it in the WAL, then delete
   * WAL segments below it. A failure stops the node rather than risk the log.
   */
  private maybeSnapshot(): void {
    const wal = this.wal;
    const dir = this.snapshotDir;
    const index = this.appliedIndex;
    if (wal === undefined || dir === undefined || this.snapshotting !== null) return;
    if (index - this.lastSnapshotIndex < this.snapshotEvery) return;
    const data = encodeSnapshot(this.storage, index);
    this.lastSnapshotIndex = index;
    this.snapshotting = (async () => {
      await writeSnapshotFile(dir, { index, term: 1, data });
      wal.setSnapshot({ index, term: 1, data: new Uint8Array(0) });
      await wal.compact(index + 1);
    })()
      .catch((cause: unknown) => this.stop(`snapshot at ${index} failed: ${(cause as Error).message}`))
      .finally(() => {
        this.snapshotting = null;
      });
  }

  private takeResult(index: number): KvResult {
    const r = this.results.get(index);
    if (r === undefined) throw new NodeUnavailableError(NodeErrorCode.Stopped, `no result for index ${index}`);
    this.results.delete(index);
    return r;
  }

  private waitForVersion(version: number): Promise<void> {
    return new Promise((resolve) => this.versionWaiters.push({ version, resolve }));
  }
}
