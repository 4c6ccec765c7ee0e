// An origin node that is a member of a Raft group: the OriginNode the HTTP API serves,
// with every write committed on a quorum (fsync'd) before its answer. Followers forward
// proposals to the leader inside Raft; every node applies the same log to its own state
// machine, and the node that took a request answers it when it applies that entry
// (entry-envelope.ts says how it knows; proposal-table.ts holds what it owes; strong reads
// go through read-index-queue.ts).
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { encodeCommand } from '../../../core/src/kv/command-codec.ts';
import type { KvChange, KvCommand, KvEntry, KvResult } from '../../../core/src/kv/commands.ts';
import { DEFAULT_MAX_VALUE_BYTES } from '../../../core/src/kv/limits.ts';
import { restoreSnapshot } from '../../../core/src/kv/snapshot.ts';
import { type IndexedCommand, KvStateMachine } from '../../../core/src/kv/state-machine.ts';
import type { KvStorage } from '../../../core/src/kv/storage.ts';
import { decodeConfChangeData } from '../../../core/src/raft/codec.ts';
import { ProposalDroppedError } from '../../../core/src/raft/errors.ts';
import { RawNode, type Ready } from '../../../core/src/raft/raw-node.ts';
import { ConfChangeType, EntryType, type NodeId, NONE } from '../../../core/src/raft/types.ts';
import { Prng } from '../../../core/src/testing/prng.ts';
import { ChangeFeed } from '../node/change-feed.ts';
import { NodeErrorCode, NodeTimeoutError, NodeUnavailableError } from '../node/errors.ts';
import { withTimeout } from '../node/local-node.ts';
import type { ClusterInfo, MemberInfo, OriginNode, ProposeOptions, ReadOptions, Readiness, WatchSubscription } from '../node/origin-node.ts';
import type { WriteAheadLog } from '../wal/wal.ts';
import { watchFeed } from './feed-watch.ts';
import { decodeMember, encodeMember, raftIdOf } from './members.ts';
import { PeerTransport } from './peer-transport.ts';
import { RaftDriver } from './raft-driver.ts';
import { openRaftLog } from './raft-log.ts';
import { decodeRaftSnapshotData, RaftSnapshotter } from './raft-snapshot.ts';
import { decodeEnvelope, encodeEnvelope, ORIGIN_BYTES } from './entry-envelope.ts';
import { ProposalTable, type WriteStagesListener } from './proposal-table.ts';
import { ReadIndexQueue } from './read-index-queue.ts';

export interface RaftNodeOptions {
  /** This node's name (`n1`) and the URL peers and clients reach it at. */
  readonly self: MemberInfo;
  /** The initial members, this node included (used only when the log is empty). */
  readonly initialMembers: readonly MemberInfo[];
  readonly wal: WriteAheadLog;
  readonly storage: KvStorage;
  /** Shared by every member; authenticates peer links. */
  readonly clusterSecret: string;
  /** Milliseconds per Raft tick; default 100 (election after 10–20 ticks). */
  readonly tickMs?: number;
  readonly electionTimeoutTicks?: number;
  readonly maxValueBytes?: number;
  readonly feedCapacity?: number;
  /** Pending requests (proposals and reads) at most; default 100,000. */
  readonly maxPendingRequests?: number;
  /** Where snapshot files go; default `snapshots` next to the WAL directory. */
  readonly snapshotDir?: string;
  /**
   * Take a Raft snapshot (and compact the log) every this many applied entries; default
   * 100,000 (etcd's too). A snapshot reads the whole state, so its cost per write is the
   * state's size over this: at 10,000 and 100k keys it was ~7 µs of CPU per write per node.
   */
  readonly snapshotEveryEntries?: number;
  /** Where the time of each write this node answers went (metrics, the cluster benchmark). */
  readonly onWriteStages?: WriteStagesListener;
  /** Entries kept behind a snapshot for followers that lag a little; default 1,000. */
  readonly snapshotCatchUpEntries?: number;
  /** Raft's asynchronous storage writes (raft-driver.ts); default true. False: one Ready at a time. */
  readonly asyncStorageWrites?: boolean;
}

/** A committed command, and the proposal it answers here (-1: none). */
interface Applying extends IndexedCommand {
  readonly seq: number;
}

export const DEFAULT_SNAPSHOT_EVERY_ENTRIES = 100_000;

export class RaftNode implements OriginNode {
  readonly id: string;
  readonly url: string;
  readonly stateMachine: KvStateMachine;
  private readonly kvStorage: KvStorage;
  readonly transport: PeerTransport;
  private readonly raft: RawNode;
  private readonly driver: RaftDriver;
  private readonly feed: ChangeFeed;
  private readonly members = new Map<NodeId, MemberInfo>();
  private readonly proposals: ProposalTable;
  private readonly reads: ReadIndexQueue;
  private versionWaiters: { version: number; resolve: () => void }[] = [];
  private readonly maxValueBytes: number;
  private readonly maxPending: number;
  private readonly limits: { readonly maxValueBytes: number };
  private readonly commandOf = (seq: number): KvCommand | undefined => this.proposals.commandOf(seq);
  /** Writes waiting for the loop's next turn, proposed together (see proposeQueued). */
  private queuedData: Uint8Array[] = [];
  private queuedSeqs: number[] = [];
  /** Marks the entries this process proposed (entry-envelope.ts). */
  private readonly origin: Uint8Array = randomBytes(ORIGIN_BYTES);
  private stopped: string | null = null;
  private commitIndex = 0;
  private snapshotter!: RaftSnapshotter;
  private lastLeader: NodeId = NONE;
  private applyBatches = 0;
  private readonly leaderListeners: ((leader: string | null) => void)[] = [];

  private constructor(options: RaftNodeOptions, raft: RawNode, transport: PeerTransport, driver: RaftDriver, sm: KvStateMachine) {
    this.id = options.self.id;
    this.url = options.self.url;
    this.raft = raft;
    this.transport = transport;
    this.driver = driver;
    this.stateMachine = sm;
    this.kvStorage = options.storage;
    this.feed = new ChangeFeed(options.feedCapacity ?? 10_000, sm.appliedIndex);
    this.maxValueBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
    this.maxPending = options.maxPendingRequests ?? 100_000;
    this.limits = { maxValueBytes: this.maxValueBytes };
    this.proposals = new ProposalTable(options.onWriteStages);
    this.reads = new ReadIndexQueue(raft, () => driver.kick());
  }

  static async open(options: RaftNodeOptions): Promise<RaftNode> {
    const selfId = raftIdOf(options.self.id);
    const voters = options.initialMembers.filter((m) => !m.learner).map((m) => raftIdOf(m.id));
    const snapshotDir = options.snapshotDir ?? join(dirname(options.wal.dir), 'snapshots');
    mkdirSync(snapshotDir, { recursive: true });
    const { storage, snapshot } = await openRaftLog(options.wal, voters, snapshotDir);
    const sm = new KvStateMachine(options.storage, { limits: { maxValueBytes: options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES } });
    const snapData = snapshot === null ? null : decodeRaftSnapshotData(snapshot.data);
    const snapIndex = snapshot?.metadata.index ?? 0;
    // The state machine lost what the compacted log held (e.g. its store was replaced).
    if (snapData !== null && sm.appliedIndex < snapIndex) restoreSnapshot(sm, options.storage, snapData.kv);
    const applied = Math.max(snapIndex, Math.min(sm.appliedIndex, storage.initialState().hardState.commit));
    const raft = new RawNode({
      id: selfId,
      storage,
      random: new Prng(randomBytes(6).readUIntBE(0, 6)),
      applied,
      electionTimeoutTicks: options.electionTimeoutTicks ?? 10,
      heartbeatTimeoutTicks: 1,
      checkQuorum: true,
      preVote: true,
      asyncStorageWrites: options.asyncStorageWrites ?? true,
    });
    let node: RaftNode | undefined;
    const transport = new PeerTransport({
      selfName: options.self.id,
      secret: options.clusterSecret,
      onMessage: (m) => node?.driver.step(m),
      onUnreachable: (id) => node?.raft.reportUnreachable(id),
    });
    const driver = new RaftDriver({
      node: raft,
      wal: options.wal,
      storage,
      transport,
      tickMs: options.tickMs ?? 100,
      snapshotDir,
      onReady: (rd) => node!.onReady(rd),
      beforeReady: () => node!.proposeQueued(),
      onFatal: (cause) => node!.stop(`Raft loop failed: ${(cause as Error).message}`),
    });
    node = new RaftNode(options, raft, transport, driver, sm);
    node.snapshotter = new RaftSnapshotter({
      dir: snapshotDir,
      everyEntries: options.snapshotEveryEntries ?? DEFAULT_SNAPSHOT_EVERY_ENTRIES,
      catchUpEntries: options.snapshotCatchUpEntries ?? 1_000,
      raft,
      log: storage,
      wal: options.wal,
      kv: options.storage,
      members: () => [...node!.members.values()],
      onFatal: (cause) => node!.stop(`snapshot failed: ${(cause as Error).message}`),
    });
    for (const m of options.initialMembers) node.addKnownMember(m);
    for (const m of snapData?.members ?? []) node.addKnownMember(m);
    driver.start();
    return node;
  }

  private addKnownMember(m: MemberInfo): void {
    const id = raftIdOf(m.id);
    this.members.set(id, m);
    if (m.id !== this.id) this.transport.setPeer(id, m.url);
  }

  /**
   * Proposes the queued writes as one batch: Raft appends them together and sends one
   * append per follower, instead of one per write.
   */
  private proposeQueued(): void {
    this.reads.ask();
    if (this.queuedData.length === 0) return;
    const data = this.queuedData;
    const seqs = this.queuedSeqs;
    this.queuedData = [];
    this.queuedSeqs = [];
    try {
      this.raft.proposeBatch(data);
      this.proposals.proposed(seqs);
    } catch (e) {
      const err = e instanceof ProposalDroppedError ? new NodeUnavailableError(NodeErrorCode.NoQuorum, `proposal dropped: ${e.message}`) : e;
      for (const seq of seqs) this.proposals.reject(seq, err);
    }
  }

  // ---- the Ready loop's apply step ----------------------------------------------------

  private onReady(rd: Ready): void {
    if (rd.hardState !== null) this.commitIndex = rd.hardState.commit;
    if (rd.softState !== null && rd.softState.lead !== this.lastLeader) {
      this.lastLeader = rd.softState.lead;
      const lead = rd.softState.lead;
      const name = lead === NONE ? null : (this.members.get(lead)?.id ?? String(lead));
      for (const l of this.leaderListeners) l(name);
    }
    if (rd.snapshot !== null) this.installSnapshot(rd.snapshot.metadata.index, rd.snapshot.data);
    const batch: Applying[] = [];
    const flush = (): void => {
      if (batch.length === 0) return;
      const outcomes = this.stateMachine.applyBatch(batch);
      this.applyBatches++;
      for (let i = 0; i < batch.length; i++) {
        const outcome = outcomes[i]!;
        for (const c of outcome.changes) this.feed.publish(c);
        const seq = batch[i]!.seq;
        if (seq >= 0) this.proposals.resolve(seq, outcome.result);
      }
      batch.length = 0;
    };
    for (const e of rd.committedEntries) {
      if (e.index <= this.stateMachine.appliedIndex) continue;
      if (e.type === EntryType.ConfChange) {
        flush();
        this.applyConfChange(e.data);
        this.stateMachine.skipEntry(e.index);
        continue;
      }
      if (e.data.length === 0) {
        flush();
        this.stateMachine.skipEntry(e.index); // a new leader's no-op
        continue;
      }
      const { seq, command } = decodeEnvelope(e.data, this.origin, this.limits, this.commandOf);
      batch.push({ index: e.index, command, seq });
    }
    flush();
    this.snapshotter.maybeSnapshot(this.stateMachine.appliedIndex);
    this.reads.answered(rd.readStates);
    this.releaseWaiters();
  }

  /** A follower behind the leader's compacted log: its state is replaced by the snapshot's. */
  private installSnapshot(index: number, data: Uint8Array): void {
    if (index <= this.stateMachine.appliedIndex) return;
    const snap = decodeRaftSnapshotData(data);
    restoreSnapshot(this.stateMachine, this.kvStorage, snap.kv);
    for (const m of snap.members) if (!this.members.has(raftIdOf(m.id))) this.addKnownMember(m);
    // Changes inside the snapshot were never published: watchers from before it get current values.
    this.feed.floorVersion = Math.max(this.feed.floorVersion, index);
    this.snapshotter.installed(index);
  }

  /** Calls `listener` with the new leader's name (null: none) whenever this node sees a change. */
  onLeaderChange(listener: (leader: string | null) => void): void {
    this.leaderListeners.push(listener);
  }

  /**
   * How much work the loop did so far (counters for /metrics): Readys taken, state-machine
   * apply batches, and peer frames and Raft messages each way. Divided by the writes of a
   * period they say how well writes were batched.
   */
  loopStats(): { readies: number; applyBatches: number; peerFramesSent: number; peerFramesReceived: number; peerMessagesSent: number; peerMessagesReceived: number } {
    const t = this.transport.stats;
    return {
      readies: this.driver.stats.readies,
      applyBatches: this.applyBatches,
      peerFramesSent: t.framesSent,
      peerFramesReceived: t.framesReceived,
      peerMessagesSent: t.sent,
      peerMessagesReceived: t.received,
    };
  }

  /** Snapshots taken or installed so far, and the latest one's index (tests, metrics). */
  snapshotStatus(): { taken: number; installed: number; lastIndex: number } {
    return { taken: this.snapshotter.taken, installed: this.snapshotter.installs, lastIndex: this.snapshotter.lastIndex };
  }

  /** Waits until a snapshot being written in the background is durable. */
  async snapshotSettled(): Promise<void> {
    await this.snapshotter.settled();
  }

  private applyConfChange(data: Uint8Array): void {
    const { change } = decodeConfChangeData(data);
    if (change.type === ConfChangeType.RemoveNode) {
      this.members.delete(change.nodeId);
      this.transport.removePeer(change.nodeId);
    } else if (change.context.length > 0) {
      this.addKnownMember(decodeMember(change.context));
    }
  }

  private releaseWaiters(): void {
    const applied = this.stateMachine.appliedIndex;
    this.reads.release(applied);
    if (this.versionWaiters.length > 0) {
      const still: { version: number; resolve: () => void }[] = [];
      for (const w of this.versionWaiters) if (w.version <= applied) w.resolve();
      else still.push(w);
      this.versionWaiters = still;
    }
  }

  // ---- OriginNode ---------------------------------------------------------------------

  propose(command: KvCommand, options: ProposeOptions): Promise<KvResult> {
    try {
      this.checkRunning();
      // The client protocol hands over the bytes it decoded the command from: reused, not
      // encoded again. They are within this node's value limit when they are no longer
      // than it (the value is part of them); otherwise encodeCommand checks.
      const encoded = options.encoded;
      const bytes = encoded !== undefined && encoded.length <= this.maxValueBytes ? encoded : encodeCommand(command, this.limits); // KvLimitError on bad input
      if (this.raft.raft.lead === NONE) throw new NodeUnavailableError(NodeErrorCode.NoQuorum, 'no leader: the cluster has no quorum right now');
      if (this.proposals.size >= this.maxPending) throw new NodeUnavailableError(NodeErrorCode.NotReady, `more than ${this.maxPending} requests are pending`);
      // Timed out (the table's sweep): the write may still commit later; its answer is then dropped.
      // A command decoded from the bytes proposed is what every node decodes on apply: this
      // one reuses it instead of decoding those bytes again.
      const { seq, done } = this.proposals.add(options.timeoutMs, bytes === encoded ? command : undefined);
      this.queuedData.push(encodeEnvelope(this.origin, seq, bytes));
      this.queuedSeqs.push(seq);
      this.driver.kick();
      return done;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  async read(ks: string, key: string, options: ReadOptions): Promise<KvEntry | undefined> {
    this.checkRunning();
    if (options.consistency === 'strong') {
      if (this.raft.raft.lead === NONE) throw new NodeUnavailableError(NodeErrorCode.NoQuorum, 'no leader: strong reads need a quorum');
      if (this.reads.pending >= this.maxPending) throw new NodeUnavailableError(NodeErrorCode.NotReady, `more than ${this.maxPending} reads are pending`);
      await this.reads.wait(options.timeoutMs);
    } else if (options.consistency === 'causal' && options.minVersion !== undefined && options.minVersion > this.stateMachine.appliedIndex) {
      if (this.versionWaiters.length >= this.maxPending) throw new NodeUnavailableError(NodeErrorCode.NotReady, 'too many reads are waiting for versions');
      const reached = new Promise<void>((resolve) => this.versionWaiters.push({ version: options.minVersion!, resolve }));
      await withTimeout(reached, options.timeoutMs, `read at version ${options.minVersion}`);
    }
    return this.stateMachine.get(ks, key);
  }

  cluster(): ClusterInfo {
    const status = this.raft.status();
    const lead = this.members.get(status.softState.lead);
    const learners = new Set(status.confState.learners);
    const members: MemberInfo[] = [];
    for (const id of [...status.confState.voters, ...status.confState.learners]) {
      const m = this.members.get(id);
      members.push({ id: m?.id ?? String(id), url: m?.url ?? '', learner: learners.has(id) });
    }
    return {
      id: this.id,
      leader: lead?.id ?? null,
      term: status.hardState.term,
      commitIndex: Math.max(this.commitIndex, status.hardState.commit),
      appliedIndex: this.stateMachine.appliedIndex,
      members,
    };
  }

  readiness(): Readiness {
    if (this.stopped !== null) return { ready: false, reason: this.stopped };
    if (this.raft.raft.lead === NONE) return { ready: false, reason: 'no leader yet' };
    return { ready: true };
  }

  watch(ks: string, prefix: string, fromVersion: number | undefined, onChange: (change: KvChange) => void): WatchSubscription {
    this.checkRunning();
    return watchFeed(this.feed, this.stateMachine, ks, prefix, fromVersion, onChange);
  }

  async addMember(member: MemberInfo): Promise<ClusterInfo> {
    return this.changeMembership(member.learner ? ConfChangeType.AddLearner : ConfChangeType.AddVoter, member);
  }

  async removeMember(id: string): Promise<ClusterInfo> {
    return this.changeMembership(ConfChangeType.RemoveNode, { id, url: '', learner: false });
  }

  private async changeMembership(type: ConfChangeType, member: MemberInfo): Promise<ClusterInfo> {
    this.checkRunning();
    if (this.raft.raft.lead === NONE) throw new NodeUnavailableError(NodeErrorCode.NoQuorum, 'no leader: membership cannot change now');
    const nodeId = raftIdOf(member.id);
    try {
      this.raft.proposeConfChange({ type, nodeId, context: type === ConfChangeType.RemoveNode ? new Uint8Array(0) : encodeMember(member) });
    } catch (e) {
      throw new NodeUnavailableError(NodeErrorCode.MembershipUnavailable, `membership change refused: ${(e as Error).message}`);
    }
    this.driver.kick();
    // Wait (bounded) until the change is in the configuration this node sees.
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const conf = this.raft.status().confState;
      const present = conf.voters.includes(nodeId) || conf.learners.includes(nodeId);
      if (type === ConfChangeType.RemoveNode ? !present : type === ConfChangeType.AddLearner ? conf.learners.includes(nodeId) : conf.voters.includes(nodeId)) return this.cluster();
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new NodeTimeoutError(`membership change for ${member.id} did not take effect within 10 s`);
  }

  private checkRunning(): void {
    if (this.stopped !== null) throw new NodeUnavailableError(NodeErrorCode.Stopped, this.stopped);
  }

  /** Stops serving: pending requests fail; nothing else is written. */
  stop(reason = 'node stopped'): void {
    if (this.stopped !== null) return;
    this.stopped = reason;
    this.driver.stop();
    this.snapshotter.cancel();
    this.transport.close();
    const err = new NodeUnavailableError(NodeErrorCode.Stopped, reason);
    this.queuedData = [];
    this.queuedSeqs = [];
    this.proposals.rejectAll(err);
    this.reads.rejectAll(err);
  }
}
