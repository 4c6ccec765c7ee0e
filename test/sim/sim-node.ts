// One simulated origin node: a RawNode over a MemoryStorage that plays the disk (it survives
// crashes; nothing else does), the key-value state machine, and the node's bookkeeping of
// client requests. processReady() follows the Ready contract and feeds the safety checker.
// With asynchronous storage writes (a `disk` given), a plain Ready's writes go into a queue
// that reaches the disk after a seeded random delay, in order, while later Readys are taken:
// its committed entries are applied at once, a leader's messages leave at once and anyone
// else's wait for the write (RawNode contract, raw-node.ts). A crash loses the queue, except
// a random prefix that reached the disk without being reported.
import {
  type Entry,
  type HardState,
  type Message,
  type RaftConfig,
  type Ready,
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

/** How a node's asynchronous writes behave (asynchronous storage writes only). */
export interface SimDisk {
  prng: Prng;
  /** A write becomes durable 0..maxDelayTicks ticks after it is started (and after the one before it). */
  maxDelayTicks: number;
}

/** One Ready's writes in flight, and the messages held until they are durable. */
interface Write {
  entries: Entry[];
  hardState: HardState | null;
  messages: Message[];
  doneAt: number;
}

/** What a node needs from the simulator around it. */
export interface NodeEnv {
  now(): number;
  sendRaft(from: number, to: number, bytes: Uint8Array): void;
  reply(from: number, to: number, r: ClientResponse): void;
  checker: RaftSafetyChecker;
  /** Called as `node` applies `e` (the simulator checks that a quorum's disks hold it). */
  applying(node: number, e: Entry): void;
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
  private readonly disk: SimDisk | null;
  /** Asynchronous writes in flight, oldest first. */
  private writes: Write[] = [];
  /** A barrier Ready taken while writes were in flight: handled once they are durable. */
  private blocked: Ready | null = null;

  constructor(id: number, env: NodeEnv, opts: RaftOptions, disk: SimDisk | null = null) {
    this.id = id;
    this.env = env;
    this.disk = disk;
    this.opts = disk === null ? opts : { ...opts, asyncStorageWrites: true };
  }

  /** Asynchronous mode: Readys taken while writes were in flight, and crashes that lost some. */
  readonly overlap = { readies: 0, crashes: 0 };

  get up(): boolean {
    return this.rn !== null;
  }

  /** Starts (or restarts) from what is on "disk". */
  start(prng: Prng): void {
    this.rn = new RawNode({ id: this.id, storage: this.storage, random: prng.fork(), ...this.opts });
    this.kv = KvStateMachine.restore(this.storage.snapshot().data);
    this.pendingWrites.clear();
    this.pendingReads.clear();
    this.writes = [];
    this.blocked = null;
    this.lastState = StateType.Follower;
  }

  /**
   * Loses everything not persisted: the RawNode, the state machine, pending requests, and
   * the writes in flight except a random prefix that reached the disk unreported.
   */
  crash(): void {
    if (this.disk !== null && this.writes.length > 0) {
      this.overlap.crashes++;
      const landed = this.disk.prng.int(this.writes.length + 1);
      for (let k = 0; k < landed; k++) this.persist(this.writes[k]!.entries, this.writes[k]!.hardState);
      if (landed > 0) this.env.trace(`t=${this.env.now()} n${this.id} crash: ${landed} of ${this.writes.length} writes in flight reached the disk`);
    }
    this.writes = [];
    this.blocked = null;
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
    if (rn === null) return false;
    if (this.disk !== null) return this.processReadyAsync(rn);
    if (!rn.hasReady()) return false;
    this.handleSynchronously(rn, rn.ready());
    return true;
  }

  /** Asynchronous storage writes: finishes due writes, then takes at most one Ready. */
  private processReadyAsync(rn: RawNode): boolean {
    this.completeWrites(rn);
    if (this.blocked !== null) {
      if (this.writes.length > 0) return false;
      const rd = this.blocked;
      this.blocked = null;
      this.handleSynchronously(rn, rd);
      return true;
    }
    if (!rn.hasReady()) return false;
    if (this.writes.length > 0) this.overlap.readies++;
    const rd = rn.ready();
    this.noteSoftState(rd);
    if (rd.barrier) {
      if (this.writes.length > 0) this.blocked = rd;
      else this.handleSynchronously(rn, rd);
      return true;
    }
    // The leader's messages leave at once (it counts its own entries only once durable);
    // anyone else's promise durability and wait for this write, after earlier ones.
    const leader = rn.raft.state === StateType.Leader;
    if (leader) for (const m of rd.messages) this.env.sendRaft(this.id, m.to, encodeMessage(m));
    this.apply(rd);
    rn.acceptReady();
    const held = leader ? [] : rd.messages;
    if (rd.entries.length > 0 || rd.hardState !== null || held.length > 0) {
      const prev = this.writes.length > 0 ? this.writes[this.writes.length - 1]!.doneAt : 0;
      const delay = rd.entries.length > 0 ? this.disk!.prng.int(this.disk!.maxDelayTicks + 1) : 0;
      this.writes.push({ entries: rd.entries, hardState: rd.hardState, messages: held, doneAt: Math.max(prev, this.env.now() + delay) });
    }
    this.completeWrites(rn);
    this.serveReads();
    return true;
  }

  /** Writes whose time came reach the disk, in order: durable, then their messages leave. */
  private completeWrites(rn: RawNode): void {
    while (this.writes.length > 0 && this.writes[0]!.doneAt <= this.env.now()) {
      const w = this.writes.shift()!;
      this.persist(w.entries, w.hardState);
      if (w.entries.length > 0) {
        const last = w.entries[w.entries.length - 1]!;
        rn.appendDurable(last.index, last.term);
      }
      for (const m of w.messages) this.env.sendRaft(this.id, m.to, encodeMessage(m));
    }
  }

  private noteSoftState(rd: Ready): void {
    if (rd.softState === null) return;
    const env = this.env;
    const raft = this.rn!.raft;
    if (rd.softState.state === StateType.Leader && this.lastState !== StateType.Leader) {
      env.trace(`t=${env.now()} n${this.id} leader term ${raft.term}`);
      env.checker.onLeader(this.id, raft.term, raft);
    }
    if (rd.softState.state !== StateType.Leader && this.lastState === StateType.Leader) {
      env.trace(`t=${env.now()} n${this.id} steps down in term ${raft.term}`);
    }
    this.lastState = rd.softState.state;
  }

  private persist(entries: Entry[], hardState: HardState | null): void {
    if (entries.length > 0) {
      let prevTerm: number | undefined;
      try {
        prevTerm = this.storage.term(entries[0]!.index - 1);
      } catch {
        prevTerm = undefined;
      }
      this.storage.append(entries);
      this.env.checker.onPersist(this.id, entries, prevTerm);
    }
    if (hardState !== null) {
      this.storage.setHardState(hardState);
      this.env.checker.onHardState(this.id, hardState);
    }
  }

  /** The synchronous contract: persist, send, apply, advance. */
  private handleSynchronously(rn: RawNode, rd: Ready): void {
    const env = this.env;
    if (this.disk === null) this.noteSoftState(rd);
    // 1. Persist (atomically, before anything leaves the node).
    if (rd.snapshot !== null) this.storage.applySnapshot(rd.snapshot);
    this.persist(rd.entries, rd.hardState);
    // 2. Send.
    for (const m of rd.messages) env.sendRaft(this.id, m.to, encodeMessage(m));
    // 3. Apply.
    if (rd.snapshot !== null) {
      env.trace(`t=${env.now()} n${this.id} installs snapshot ${rd.snapshot.metadata.term}/${rd.snapshot.metadata.index}`);
      this.kv = KvStateMachine.restore(rd.snapshot.data);
      env.checker.onSnapshotApplied(this.id, rd.snapshot.metadata.index, rd.snapshot.metadata.term);
    }
    this.apply(rd);
    rn.advance();
    this.serveReads();
  }

  private apply(rd: Ready): void {
    const env = this.env;
    for (const e of rd.committedEntries) {
      env.checker.onApply(this.id, e);
      env.applying(this.id, e);
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
  }

  private serveReads(): void {
    const applied = this.rn!.raft.raftLog.applied;
    for (const [ctx, p] of this.pendingReads) {
      if (p.index < 0 || p.index > applied) continue;
      this.pendingReads.delete(ctx);
      this.env.reply(this.id, p.clientId, { kind: 'response', clientId: p.clientId, seq: p.seq, output: { value: this.kv.read(p.key) } });
    }
  }

  /** Whether this node's disk holds entry (index, term), or a snapshot past it. */
  holds(index: number, term: number): boolean {
    if (this.storage.snapshot().metadata.index >= index) return true;
    try {
      return index <= this.storage.lastIndex() && this.storage.term(index) === term;
    } catch {
      return false;
    }
  }

  /** Takes a state-machine snapshot at the applied index and compacts the log behind it. */
  snapshotAndCompact(keepEntries: number): boolean {
    const rn = this.rn;
    if (rn === null) return false;
    const applied = rn.raft.raftLog.applied;
    if (applied <= this.storage.snapshot().metadata.index + 1 || applied > this.storage.lastIndex()) return false;
    // Asynchronous writes: entries are applied while the hard state that commits them may
    // still be in flight. A real shell's snapshot record follows that hard state in its
    // write-ahead log, so a durable snapshot never outruns the durable commit index; here
    // the snapshot is durable at once, so it waits until the commit index on disk covers it.
    if (applied > this.storage.initialState().hardState.commit) return false;
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
