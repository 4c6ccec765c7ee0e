// A tiny in-memory cluster for unit tests: RawNodes over MemoryStorage, driven by the Ready
// contract, with a message queue the test can filter (drop, isolate) and deliver in rounds.
import { Prng } from '../../../core/src/testing/prng.ts';
import {
  type Entry,
  type Message,
  type NodeId,
  type RaftConfig,
  type ReadState,
  EntryType,
  MemoryStorage,
  RawNode,
  StateType,
  bootstrapMemoryStorage,
} from '../../../core/src/raft/index.ts';

export interface TestNode {
  id: NodeId;
  rn: RawNode;
  storage: MemoryStorage;
  applied: Entry[];
  reads: ReadState[];
}

export type Options = Partial<Omit<RaftConfig, 'id' | 'storage' | 'random'>>;

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

export class Cluster {
  readonly nodes = new Map<NodeId, TestNode>();
  queue: Message[] = [];
  /** Messages for which this returns true are dropped. */
  drop: (m: Message) => boolean = () => false;
  readonly opts: Options;
  private readonly prng: Prng;

  constructor(voters: NodeId[], opts: Options = {}, seed = 1) {
    this.opts = opts;
    this.prng = new Prng(seed);
    for (const id of voters) {
      const storage = new MemoryStorage();
      bootstrapMemoryStorage(storage, voters);
      this.start(id, storage);
    }
  }

  /** (Re)starts node `id` on the given storage (what it persisted). */
  start(id: NodeId, storage: MemoryStorage = new MemoryStorage()): TestNode {
    const rn = new RawNode({ id, storage, random: this.prng.fork(), ...this.opts });
    const node: TestNode = { id, rn, storage, applied: [], reads: [] };
    this.nodes.set(id, node);
    return node;
  }

  node(id: NodeId): TestNode {
    return this.nodes.get(id)!;
  }

  /** Handles one Ready of one node per the contract: persist, send, apply, advance. */
  handleReady(n: TestNode): boolean {
    if (!n.rn.hasReady()) return false;
    const rd = n.rn.ready();
    if (rd.hardState !== null) n.storage.setHardState(rd.hardState);
    if (rd.snapshot !== null) n.storage.applySnapshot(rd.snapshot);
    n.storage.append(rd.entries);
    for (const m of rd.messages) this.queue.push(m);
    for (const e of rd.committedEntries) if (e.type === EntryType.Normal && e.data.length > 0) n.applied.push(e);
    for (const rs of rd.readStates) n.reads.push(rs);
    n.rn.advance();
    return true;
  }

  /** Processes readies and delivers messages until quiet (bounded). */
  stabilize(maxRounds = 1000): void {
    for (let round = 0; round < maxRounds; round++) {
      let busy = false;
      for (const n of this.nodes.values()) busy = this.handleReady(n) || busy;
      const q = this.queue;
      this.queue = [];
      for (const m of q) {
        busy = true;
        if (this.drop(m)) continue;
        this.nodes.get(m.to)?.rn.step(m);
      }
      if (!busy) return;
    }
    throw new Error('cluster did not stabilize');
  }

  tick(id: NodeId, n = 1): void {
    for (let k = 0; k < n; k++) this.node(id).rn.tick();
  }

  tickAll(n = 1): void {
    for (let k = 0; k < n; k++) {
      for (const node of this.nodes.values()) node.rn.tick();
      this.stabilize();
    }
  }

  /** Makes `id` leader by campaigning (as a transfer would: no pre-vote, past leases), then settles. */
  elect(id: NodeId): void {
    this.node(id).rn.raft.hup(true);
    this.stabilize();
  }

  leaders(): NodeId[] {
    const out: NodeId[] = [];
    for (const n of this.nodes.values()) if (n.rn.raft.state === StateType.Leader) out.push(n.id);
    return out;
  }

  isolate(id: NodeId): void {
    this.drop = (m) => m.from === id || m.to === id;
  }

  heal(): void {
    this.drop = () => false;
  }

  appliedData(id: NodeId): string[] {
    return this.node(id).applied.map((e) => dec(e.data));
  }
}
