// One simulated origin node: a RawNode over a MemoryStorage that plays the disk (it survives
// crashes; nothing else does), the key-value state machine, and the node's bookkeeping of
// client requests. processReady() follows the Ready contract and feeds the safety checker.
import {
  type Message,
  type RaftConfig,
  EntryType,
  MemoryStorage,
  NONE,
  ProposalDroppedError,
  RawNode,
  StateType,
  decodeMessage,
  encodeMessage,
} from '../../core/src/raft/index.ts';
import { contextKey } from '../../core/src/raft/read-only.ts';
import type { Prng } from '../../core/src/testing/prng.ts';
import type { RaftSafetyChecker } from './checkers/raft-safety.ts';
import { KvStateMachine, decodeCommand, encodeCommand } from './kv-model.ts';
import type { ClientRequest, ClientResponse } from './workload.ts';

export type RaftOptions = Partial<Omit<RaftConfig, 'id' | 'storage' | 'random'>>;

/** What a node needs from the simulator around it. */
export interface NodeEnv {
  now(): number;
  sendRaft(from: number, to: number, bytes: Uint8Array): void;
  reply(from: number, to: number, r: ClientResponse): void;
  checker: RaftSafetyChecker;
  trace(line: string): void;
}

interface PendingRead {
  clientId: number;
  seq: number;
  key: string;
  index: number;
}

const MAX_PENDING = 1000;

export class SimNode {
  readonly id: number;
  readonly storage = new MemoryStorage();
  rn: RawNode | null = null;
  kv = new KvStateMachine();
  private pendingWrites = new Map<string, true>();
  private pendingReads = new Map<string, PendingRead>();
  private readCounter = 0;
  private lastState: StateType = StateType.Follower;
  private readonly env: NodeEnv;
  private readonly opts: RaftOptions;

  constructor(id: number, env: NodeEnv, opts: RaftOptions) {
    this.id = id;
    this.env = env;
    this.opts = opts;
  }

  get up(): boolean {
    return this.rn !== null;
  }

  /** Starts (or restarts) from what is on "disk". */
  start(prng: Prng): void {
    this.rn = new RawNode({ id: this.id, storage: this.storage, random: prng.fork(), ...this.opts });
    this.kv = KvStateMachine.restore(this.storage.snapshot().data);
    this.pendingWrites.clear();
    this.pendingReads.clear();
    this.lastState = StateType.Follower;
  }

  /** Loses everything not persisted: the RawNode, the state machine, pending requests. */
  crash(): void {
    this.rn = null;
  }

  onRaftMessage(bytes: Uint8Array): void {
    if (this.rn === null) return;
    const m: Message = decodeMessage(bytes);
    this.rn.step(m);
  }

  onClientRequest(req: ClientRequest): void {
    const rn = this.rn;
    if (rn === null) return;
    const { clientId, seq, input } = req;
    if (input.kind === 'get') {
      if (rn.raft.lead === NONE) {
        this.env.reply(this.id, clientId, { kind: 'redirect', clientId, seq, leader: NONE });
        return;
      }
      if (this.pendingReads.size >= MAX_PENDING) return;
      const ctx = new TextEncoder().encode(`${this.id}:${++this.readCounter}`);
      this.pendingReads.set(contextKey(ctx), { clientId, seq, key: input.key, index: -1 });
      rn.readIndex(ctx);
      return;
    }
    const s = this.kv.sessions.get(clientId);
    if (s !== undefined && s.seq >= seq) {
      if (s.seq === seq) this.env.reply(this.id, clientId, { kind: 'response', clientId, seq, output: s.output });
      return;
    }
    const key = `${clientId}:${seq}`;
    if (rn.raft.state !== StateType.Leader) {
      // Every other request is forwarded through Raft (a follower's proposal goes to the
      // leader); the rest are redirected to the client.
      if (seq % 2 === 0 && rn.raft.lead !== NONE && rn.raft.state === StateType.Follower) {
        try {
          rn.propose(encodeCommand({ clientId, seq, input }));
          if (this.pendingWrites.size < MAX_PENDING) this.pendingWrites.set(key, true);
          return;
        } catch (err) {
          if (!(err instanceof ProposalDroppedError)) throw err;
        }
      }
      this.env.reply(this.id, clientId, { kind: 'redirect', clientId, seq, leader: rn.raft.lead });
      return;
    }
    // A retry is proposed again even if this node proposed it before: the earlier entry may
    // have been lost with a term change. The session table applies it once either way.
    if (this.pendingWrites.size >= MAX_PENDING && !this.pendingWrites.has(key)) return;
    try {
      rn.propose(encodeCommand({ clientId, seq, input }));
      this.pendingWrites.set(key, true);
    } catch (err) {
      if (!(err instanceof ProposalDroppedError)) throw err;
      this.env.reply(this.id, clientId, { kind: 'redirect', clientId, seq, leader: NONE });
    }
  }

  /** Handles one Ready per the contract. Returns false if there was none. */
  processReady(): boolean {
    const rn = this.rn;
    if (rn === null || !rn.hasReady()) return false;
    const rd = rn.ready();
    const env = this.env;
    const raft = rn.raft;
    if (rd.softState !== null) {
      if (rd.softState.state === StateType.Leader && this.lastState !== StateType.Leader) {
        env.trace(`t=${env.now()} n${this.id} leader term ${raft.term}`);
        env.checker.onLeader(this.id, raft.term, raft);
      }
      if (rd.softState.state !== StateType.Leader && this.lastState === StateType.Leader) {
        env.trace(`t=${env.now()} n${this.id} steps down in term ${raft.term}`);
      }
      this.lastState = rd.softState.state;
    }
    // 1. Persist (atomically, before anything leaves the node).
    if (rd.snapshot !== null) this.storage.applySnapshot(rd.snapshot);
    if (rd.entries.length > 0) {
      let prevTerm: number | undefined;
      try {
        prevTerm = this.storage.term(rd.entries[0]!.index - 1);
      } catch {
        prevTerm = undefined;
      }
      this.storage.append(rd.entries);
      env.checker.onPersist(this.id, rd.entries, prevTerm);
    }
    if (rd.hardState !== null) {
      this.storage.setHardState(rd.hardState);
      env.checker.onHardState(this.id, rd.hardState);
    }
    // 2. Send.
    for (const m of rd.messages) env.sendRaft(this.id, m.to, encodeMessage(m));
    // 3. Apply.
    if (rd.snapshot !== null) {
      env.trace(`t=${env.now()} n${this.id} installs snapshot ${rd.snapshot.metadata.term}/${rd.snapshot.metadata.index}`);
      this.kv = KvStateMachine.restore(rd.snapshot.data);
      env.checker.onSnapshotApplied(this.id, rd.snapshot.metadata.index, rd.snapshot.metadata.term);
    }
    for (const e of rd.committedEntries) {
      env.checker.onApply(this.id, e);
      this.kv.appliedIndex = e.index;
      if (e.type !== EntryType.Normal || e.data.length === 0) continue;
      const cmd = decodeCommand(e.data);
      const output = this.kv.apply(e.index, cmd);
      const key = `${cmd.clientId}:${cmd.seq}`;
      if (this.pendingWrites.delete(key)) env.reply(this.id, cmd.clientId, { kind: 'response', clientId: cmd.clientId, seq: cmd.seq, output });
    }
    for (const rs of rd.readStates) {
      const p = this.pendingReads.get(contextKey(rs.context));
      if (p !== undefined) p.index = rs.index;
    }
    rn.advance();
    this.serveReads();
    return true;
  }

  private serveReads(): void {
    const applied = this.rn!.raft.raftLog.applied;
    for (const [ctx, p] of this.pendingReads) {
      if (p.index < 0 || p.index > applied) continue;
      this.pendingReads.delete(ctx);
      this.env.reply(this.id, p.clientId, { kind: 'response', clientId: p.clientId, seq: p.seq, output: { value: this.kv.read(p.key) } });
    }
  }

  /** Takes a state-machine snapshot at the applied index and compacts the log behind it. */
  snapshotAndCompact(keepEntries: number): boolean {
    const rn = this.rn;
    if (rn === null) return false;
    const applied = rn.raft.raftLog.applied;
    if (applied <= this.storage.snapshot().metadata.index + 1 || applied > this.storage.lastIndex()) return false;
    this.storage.createSnapshot(applied, rn.confStateAt(applied), this.kv.snapshot());
    const compactTo = applied - keepEntries;
    if (compactTo > this.storage.firstIndex() - 1) {
      this.storage.compact(compactTo);
      rn.compacted(compactTo);
    }
    this.env.trace(`t=${this.env.now()} n${this.id} snapshot at ${applied}, compact to ${compactTo}`);
    return true;
  }
}
