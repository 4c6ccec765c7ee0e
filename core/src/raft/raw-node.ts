// RawNode: the API a shell drives. Time enters through tick(), peer messages through step(),
// client requests through propose/proposeConfChange/readIndex/transferLeader, and everything
// Raft wants done comes out of ready().
//
// The Ready contract (what a shell's loop must do, in this order):
//   1. rd = node.ready()   (only when node.hasReady())
//   2. Persist rd.snapshot (if not null; it replaces the whole log), then append rd.entries
//      to the log storage (replacing any entries from rd.entries[0].index on), and
//      rd.hardState (if not null) — atomically with the entries, and durably (fsync) when
//      rd.mustSync — BEFORE sending any message of this Ready.
//      A vote or an acknowledgement must never leave the node before what it promises is
//      on disk.
//   3. Send rd.messages. Losing, duplicating or reordering them is safe.
//   4. If rd.snapshot is not null, restore the state machine from rd.snapshot.data. Then
//      apply rd.committedEntries in order (Normal entries to the state machine; ConfChange
//      entries need no action: the configuration took effect when the entry entered the log;
//      decodeConfChangeData(entry.data) tells the shell who joined or left). Answer
//      rd.readStates once the applied index reaches each read's index.
//   5. node.advance(). Call ready() again only after advance().
//
// Asynchronous storage writes (RaftConfig.asyncStorageWrites), where a shell takes the next
// Ready before the last one's writes are durable:
//   - A Ready with rd.barrier set (it changes term or vote, or carries a snapshot) is handled
//     as above, after every write in flight is durable (and reported by appendDurable).
//   - Any other Ready: start its writes (in order after the earlier ones), apply its
//     committedEntries and answer its readStates at once (they are durable here by
//     construction), then node.acceptReady(): its entries are in progress and its committed
//     entries applied, so the next Ready repeats neither. Its messages may leave at once if
//     this node was the leader when the Ready was taken (a leader counts its own entries
//     only once durable); otherwise they wait until this Ready's writes are durable, and
//     leave after those of earlier Readys.
//   - Once a write is durable, node.appendDurable(index, term) with its last entry (ignored
//     if those entries were replaced since), then check hasReady() again.
//
// Restart: build a RaftStorage over what was persisted (hard state, snapshot, log) and
// create a new RawNode on it with the same id, passing `applied` if the state machine
// survived the restart (otherwise committed entries after the snapshot are handed out again).
//
// Snapshots: after applying up to index i, the shell may take a state-machine snapshot,
// store it with confStateAt(i) (e.g. MemoryStorage.createSnapshot) and compact the log
// before i. Raft sends that snapshot (storage.snapshot()) to followers that lag behind the
// compacted log; on a follower it comes back out as rd.snapshot.
import { applyConfChange } from './confchange/confchange.ts';
import { encodeConfChangeData } from './codec.ts';
import { RaftUsageError } from './errors.ts';
import { type RaftConfig, Raft, StateType } from './raft.ts';
import type { ReadState } from './read-only.ts';
import type { MemoryStorage } from './storage.ts';
import { selfAppendDurable } from './roles/leader.ts';
import { ProgressState } from './tracker/progress.ts';
import {
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type Snapshot,
  ConfChangeType,
  EMPTY_BYTES,
  EntryType,
  MessageType,
  NONE,
  emptyHardState,
  hardStateEquals,
  message,
} from './types.ts';

/** Volatile state, reported when it changes. */
export interface SoftState {
  lead: NodeId;
  state: StateType;
}

export interface Ready {
  softState: SoftState | null;
  /** Persist before sending messages; null when unchanged. */
  hardState: HardState | null;
  /** Append to stable storage before sending messages. */
  entries: Entry[];
  /** Persist and restore the state machine from it; null if none. */
  snapshot: Snapshot | null;
  /** Apply in order, after persisting. */
  committedEntries: Entry[];
  /** Send after persisting. */
  messages: Message[];
  /** Completed ReadIndex requests. */
  readStates: ReadState[];
  /** Whether the persisted writes must be synced (term, vote or entries changed). */
  mustSync: boolean;
  /**
   * Changes term or vote, or carries a snapshot. With asynchronous storage writes such a
   * Ready is handled synchronously: after every write in flight, then advance().
   */
  barrier: boolean;
}

export interface ProgressStatus {
  match: number;
  next: number;
  state: ProgressState;
  isLearner: boolean;
  inflight: number;
}

export interface Status {
  id: NodeId;
  hardState: HardState;
  softState: SoftState;
  applied: number;
  lastIndex: number;
  confState: ConfState;
  leadTransferee: NodeId;
  /** Only on the leader. */
  progress: Map<NodeId, ProgressStatus> | null;
}

export class RawNode {
  readonly raft: Raft;
  private prevSoft: SoftState;
  private prevHard: HardState;
  /** The Ready handed out and not yet advanced, or null. */
  private pending: Ready | null;

  constructor(config: RaftConfig) {
    this.raft = new Raft(config);
    this.prevSoft = this.softState();
    this.prevHard = this.raft.hardState();
    this.pending = null;
  }

  private softState(): SoftState {
    return { lead: this.raft.lead, state: this.raft.state };
  }

  tick(): void {
    this.raft.tick();
  }

  /** Starts an election now (tests, or a shell that knows the leader is gone). */
  campaign(): void {
    this.raft.hup(false);
  }

  /** Proposes application data; throws ProposalDroppedError if it cannot be appended or forwarded. */
  propose(data: Uint8Array): void {
    this.raft.propose([{ term: 0, index: 0, type: EntryType.Normal, data }]);
  }

  /** Proposes several entries at once (one append message carries them all). */
  proposeBatch(datas: Uint8Array[]): void {
    const ents: Entry[] = [];
    for (let k = 0; k < datas.length; k++) ents.push({ term: 0, index: 0, type: EntryType.Normal, data: datas[k]! });
    this.raft.propose(ents);
  }

  /**
   * Proposes a single-server configuration change (leader only). Throws
   * InvalidConfChangeError if the result breaks an invariant, ProposalDroppedError if
   * another change is pending or the leader has not committed an entry of its term yet.
   */
  proposeConfChange(cc: ConfChange): void {
    const next = applyConfChange(this.raft.confHistory.current(), cc);
    const data = encodeConfChangeData({ change: cc, confState: next });
    this.raft.propose([{ term: 0, index: 0, type: EntryType.ConfChange, data }]);
  }

  /** Feeds a message from a peer. Messages for another node are ignored. */
  step(m: Message): void {
    if (m.to !== this.raft.id) return;
    if (m.type === MessageType.Propose && m.term === 0 && m.from === this.raft.id) return;
    this.raft.step(m);
  }

  /**
   * Requests a linearizable read. `context` must be unique among pending reads; the result
   * arrives as a ReadState with the same context in a later Ready (or never, if leadership
   * changes: retry after a timeout).
   */
  readIndex(context: Uint8Array): void {
    this.raft.step(message({ type: MessageType.ReadIndex, to: this.raft.id, from: this.raft.id, context }));
  }

  /** Asks the leader to hand leadership to `transferee` (a voter). */
  transferLeader(transferee: NodeId): void {
    this.raft.step(message({ type: MessageType.TransferLeader, to: this.raft.id, from: transferee }));
  }

  reportUnreachable(id: NodeId): void {
    this.raft.reportUnreachable(id);
  }

  reportSnapshot(id: NodeId, failed: boolean): void {
    this.raft.reportSnapshot(id, failed);
  }

  hasReady(): boolean {
    const r = this.raft;
    if (this.pending !== null) return false;
    const soft = this.softState();
    if (soft.lead !== this.prevSoft.lead || soft.state !== this.prevSoft.state) return true;
    if (!hardStateEquals(r.hardState(), this.prevHard)) return true;
    if (r.raftLog.unstable.snapshot !== null) return true;
    return (
      r.msgs.length > 0 ||
      r.raftLog.unstable.hasNextEntries() ||
      r.raftLog.hasNextCommittedEntries() ||
      r.readStates.length > 0
    );
  }

  /** Everything pending; see the contract at the top of this file. */
  ready(): Ready {
    if (this.pending !== null) throw new RaftUsageError('ready() called again before advance()');
    const r = this.raft;
    const soft = this.softState();
    const hard = r.hardState();
    const entries = r.raftLog.unstableEntries();
    const rd: Ready = {
      softState: soft.lead !== this.prevSoft.lead || soft.state !== this.prevSoft.state ? soft : null,
      hardState: hardStateEquals(hard, this.prevHard) ? null : hard,
      entries,
      snapshot: r.raftLog.unstable.snapshot,
      committedEntries: r.raftLog.nextCommittedEntries(),
      messages: r.msgs,
      readStates: r.readStates,
      mustSync: entries.length > 0 || hard.term !== this.prevHard.term || hard.vote !== this.prevHard.vote,
      barrier: hard.term !== this.prevHard.term || hard.vote !== this.prevHard.vote || r.raftLog.unstable.snapshot !== null,
    };
    r.msgs = [];
    r.readStates = [];
    if (rd.softState !== null) this.prevSoft = soft;
    this.pending = rd;
    return rd;
  }

  /** The shell has persisted, sent and applied the last Ready. */
  advance(): void {
    const rd = this.pending;
    if (rd === null) throw new RaftUsageError('advance() without a pending ready()');
    const log = this.raft.raftLog;
    if (rd.hardState !== null) this.prevHard = rd.hardState;
    if (rd.snapshot !== null) {
      log.stableSnapTo(rd.snapshot.metadata.index);
      if (log.applied < rd.snapshot.metadata.index) log.applied = rd.snapshot.metadata.index;
    }
    if (rd.entries.length > 0) {
      const last = rd.entries[rd.entries.length - 1]!;
      if (log.asyncWrites) this.appendDurable(last.index, last.term);
      else log.stableTo(last.index, last.term);
    }
    if (rd.committedEntries.length > 0) log.appliedTo(rd.committedEntries[rd.committedEntries.length - 1]!.index);
    this.pending = null;
  }

  /**
   * Asynchronous storage writes: the shell started the last Ready's writes and applied its
   * committed entries, and will call appendDurable when the writes are durable. ready() may
   * be called again. A barrier Ready must be advance()d instead.
   */
  acceptReady(): void {
    const rd = this.pending;
    if (rd === null) throw new RaftUsageError('acceptReady() without a pending ready()');
    const log = this.raft.raftLog;
    if (!log.asyncWrites) throw new RaftUsageError('acceptReady() needs asyncStorageWrites');
    if (rd.barrier) throw new RaftUsageError('a Ready that changes term or vote or carries a snapshot is persisted first, then advance()d');
    if (rd.hardState !== null) this.prevHard = rd.hardState;
    if (rd.entries.length > 0) {
      const last = rd.entries[rd.entries.length - 1]!;
      log.unstable.acceptInProgress(last.index, last.term);
    }
    if (rd.committedEntries.length > 0) log.appliedTo(rd.committedEntries[rd.committedEntries.length - 1]!.index);
    this.pending = null;
  }

  /**
   * Asynchronous storage writes: the log is durable up to entry `index` of term `term` (the
   * last entry of a write, and every write before it). Ignored if that entry was replaced
   * since. A leader counts it toward commit.
   */
  appendDurable(index: number, term: number): void {
    const r = this.raft;
    if (r.raftLog.term(index) !== term) return;
    r.raftLog.stableTo(index, term);
    if (r.state === StateType.Leader) selfAppendDurable(r, index);
  }

  /** The configuration in force at log index i (e.g. to store with a snapshot taken at i). */
  confStateAt(i: number): ConfState {
    return this.raft.confHistory.at(i);
  }

  /** Tells Raft that the shell compacted its log up to i (frees configuration history). */
  compacted(i: number): void {
    this.raft.confHistory.compactTo(i);
  }

  status(): Status {
    const r = this.raft;
    let progress: Map<NodeId, ProgressStatus> | null = null;
    if (r.state === StateType.Leader) {
      progress = new Map();
      for (const [id, pr] of r.prs.progress) {
        progress.set(id, { match: pr.match, next: pr.next, state: pr.state, isLearner: pr.isLearner, inflight: pr.inflights.size() });
      }
    }
    return {
      id: r.id,
      hardState: r.hardState(),
      softState: this.softState(),
      applied: r.raftLog.applied,
      lastIndex: r.raftLog.lastIndex(),
      confState: r.prs.confState(),
      leadTransferee: r.leadTransferee,
      progress,
    };
  }
}

/**
 * The first log entry and hard state of a new group: every founding node persists the same
 * entry 1 (a configuration entry listing the voters) before its first RawNode starts. Nodes
 * added later start with empty storage and receive it (or a snapshot) from the leader.
 */
export function bootstrapState(voters: NodeId[]): { entry: Entry; hardState: HardState } {
  const confState: ConfState = { voters: voters.slice().sort((a, b) => a - b), learners: [] };
  const first = confState.voters[0] ?? NONE;
  if (first === NONE) throw new RaftUsageError('bootstrap needs at least one voter');
  const data = encodeConfChangeData({ change: { type: ConfChangeType.AddVoter, nodeId: first, context: EMPTY_BYTES }, confState });
  const entry: Entry = { term: 1, index: 1, type: EntryType.ConfChange, data };
  return { entry, hardState: { ...emptyHardState(), term: 1, commit: 1 } };
}

/** bootstrapState applied to a MemoryStorage. */
export function bootstrapMemoryStorage(storage: MemoryStorage, voters: NodeId[]): void {
  const { entry, hardState } = bootstrapState(voters);
  storage.append([entry]);
  storage.setHardState(hardState);
}
