// The deterministic simulation driver. Every option is derived from one seed; a run has a
// fault phase (load, partitions, loss/duplication/delay, crashes that lose unpersisted
// state, membership changes, leader transfers, snapshots) and then a healed liveness phase
// in which the cluster must elect a leader and finish every client request within a bound.
// Safety is checked at every step (checkers/raft-safety.ts), linearizability at the end.
import { type Entry, ConfChangeType, InvalidConfChangeError, ProposalDroppedError, StateType, bootstrapMemoryStorage } from '../../core/src/raft/index.ts';
import { Prng } from '../../core/src/testing/prng.ts';
import { checkHistory } from './checkers/linearizability.ts';
import { RaftSafetyChecker, type Violation } from './checkers/raft-safety.ts';
import { type NetworkFaults, HEALTHY, SimNetwork } from './network.ts';
import { type NodeEnv, type RaftOptions, SimNode } from './sim-node.ts';
import { type ClientRequest, type ClientResponse, CLIENT_ID_BASE, Workload } from './workload.ts';

export interface SimOptions {
  seed: number;
  /** Length of the fault phase. */
  faultTicks?: number;
  /** Liveness bound after healing. */
  livenessTicks?: number;
  /**
   * Asynchronous storage writes: each node's writes become durable after a seeded random
   * delay while it takes later Readys (sim-node.ts).
   */
  asyncWrites?: boolean;
}

export interface SimResult {
  seed: number;
  violations: Violation[];
  ops: number;
  linearizabilityChecked: boolean;
  trace: string[];
  ticks: number;
  messages: number;
  asyncWrites: boolean;
  /** Asynchronous mode: Readys taken while the node had writes in flight, crashes that lost some. */
  overlap: { readies: number; crashes: number };
}

type Payload = { raft: Uint8Array } | { req: ClientRequest } | { resp: ClientResponse };

const MAX_NODES = 7;

/** Thrown to stop a run at the first safety violation (already recorded). */
class StopRun extends Error {}
const TRACE_LINES = 40;

export function runSimulation(o: SimOptions): SimResult {
  const sim = new Simulation(o);
  return sim.run();
}

class Simulation {
  private readonly prng: Prng;
  private readonly seed: number;
  private now = 0;
  private eventClock = 0;
  private readonly net: SimNetwork<Payload>;
  private readonly nodes = new Map<number, SimNode>();
  private readonly checker = new RaftSafetyChecker();
  private readonly workload: Workload;
  private readonly traceBuf: string[] = [];
  private readonly removed = new Set<number>();
  /** Removed nodes whose removal committed: shut down for good, as an operator would. */
  private readonly decommissioned = new Set<number>();
  private readonly restartAt = new Map<number, number>();
  private partitionEndsAt = -1;
  private readonly faults: NetworkFaults;
  private readonly raftOpts: RaftOptions;
  private readonly faultTicks: number;
  private readonly livenessTicks: number;
  private p: { crash: number; partition: number; conf: number; transfer: number; snapshot: number; slowDisk: number };
  private readonly env: NodeEnv;
  /** Set once a membership change is proposed: the durability check stops then. */
  private membershipChanged = false;
  private readonly foundingVoters: number;
  /** Asynchronous storage writes: the longest write delay in ticks; null in the synchronous mode. */
  private readonly maxWriteDelayTicks: number | null;

  constructor(o: SimOptions) {
    this.seed = o.seed;
    this.prng = new Prng(o.seed);
    const r = this.prng;
    this.faultTicks = o.faultTicks ?? 1200;
    this.livenessTicks = o.livenessTicks ?? 1500;
    const maxDelay = r.range(1, 4);
    this.faults = { lossP: r.pick([0, 0.01, 0.05, 0.15]), dupP: r.pick([0, 0.02, 0.1]), minDelayTicks: 1, maxDelayTicks: maxDelay };
    const checkQuorum = r.chance(0.8);
    this.raftOpts = {
      electionTimeoutTicks: r.range(10, 20) + 2 * maxDelay,
      heartbeatTimeoutTicks: r.range(1, 3),
      checkQuorum,
      preVote: r.chance(0.8),
      leaseReads: checkQuorum && r.chance(0.4),
      maxClockDriftTicks: 1,
      maxInflightMessages: r.pick([1, 4, 64, 256]),
      maxInflightBytes: r.pick([0, 0, 2048]),
      maxSizePerMessageBytes: r.pick([1, 256, 4096, 1 << 20]),
    };
    this.p = {
      crash: r.pick([0, 0.002, 0.006, 0.02]),
      partition: r.pick([0, 0.004, 0.01]),
      conf: r.pick([0, 0.004, 0.01]),
      transfer: r.pick([0, 0.003, 0.01]),
      snapshot: r.pick([0.005, 0.02, 0.05]),
      slowDisk: r.pick([0, 0.1, 0.3]),
    };
    this.net = new SimNetwork<Payload>(r.fork(), this.faults);
    this.workload = new Workload(r.fork(), { clients: r.range(2, 8), keys: r.range(1, 4), retryTicks: 3 * this.raftOpts.electionTimeoutTicks!, opRate: r.pick([0.05, 0.2, 0.5]) });
    this.env = {
      now: () => this.now,
      sendRaft: (from, to, bytes) => this.net.send(this.now, from, to, { raft: bytes }),
      reply: (from, to, resp) => this.net.send(this.now, from, to, { resp }),
      checker: this.checker,
      applying: (node, e) => this.checkDurable(node, e),
      trace: (line) => this.trace(line),
    };
    const n = r.range(3, 7);
    const voters = Array.from({ length: n }, (_, k) => k + 1);
    this.foundingVoters = n;
    // Drawn only in the asynchronous mode, so a seed's synchronous run stays as it was.
    this.maxWriteDelayTicks = o.asyncWrites === true ? r.pick([1, 3, 8, 20]) : null;
    // Crashes with writes in flight are what this mode must survive: more of them.
    if (o.asyncWrites === true) this.p.crash = r.pick([0.006, 0.02, 0.04]);
    for (const id of voters) {
      const node = this.newNode(id);
      bootstrapMemoryStorage(node.storage, voters);
      node.start(this.prng);
      this.nodes.set(id, node);
    }
    const writes = this.maxWriteDelayTicks === null ? '' : `, async writes (delay <= ${this.maxWriteDelayTicks} ticks)`;
    this.trace(`seed ${o.seed}: ${n} voters, faults ${JSON.stringify(this.faults)}, raft ${JSON.stringify(this.raftOpts)}, p ${JSON.stringify(this.p)}${writes}`);
  }

  /**
   * Durability while the membership has not changed: an applied entry is on a quorum of
   * the founding voters' disks (the leader's own unpersisted copy must not count).
   */
  private checkDurable(node: number, e: Entry): void {
    if (this.membershipChanged) return;
    let holders = 0;
    for (const n of this.nodes.values()) if (n.holds(e.index, e.term)) holders++;
    this.checker.onApplyDurability(node, e, holders, Math.floor(this.foundingVoters / 2) + 1);
  }

  private newNode(id: number): SimNode {
    const disk = this.maxWriteDelayTicks === null ? null : { prng: this.prng.fork(), maxDelayTicks: this.maxWriteDelayTicks };
    return new SimNode(id, this.env, this.raftOpts, disk);
  }

  private trace(line: string): void {
    if (process.env['SIM_DEBUG'] !== undefined) console.log(line);
    this.traceBuf.push(line);
    if (this.traceBuf.length > TRACE_LINES) this.traceBuf.shift();
  }

  private clock = (): number => ++this.eventClock;

  private sendRequest = (c: { id: number }, to: number, req: ClientRequest): void => {
    this.net.send(this.now, c.id, to, { req });
  };

  private targets(): number[] {
    const out: number[] = [];
    for (const id of this.nodes.keys()) if (!this.removed.has(id) && !this.decommissioned.has(id)) out.push(id);
    return out;
  }

  private leader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const n of this.nodes.values()) {
      if (n.rn !== null && n.rn.raft.state === StateType.Leader && (best === undefined || n.rn.raft.term > best.rn!.raft.term)) best = n;
    }
    return best;
  }

  run(): SimResult {
    try {
      this.faultPhase();
      this.livenessPhase();
    } catch (err) {
      if (!(err instanceof StopRun)) {
        const e = err as Error;
        this.checker.violations.push({ kind: 'crash', message: `t=${this.now}: ${e.name}: ${e.message} ${(e.stack ?? '').split('\n').slice(1, 4).join(' | ')}` });
      }
    }
    const history = this.workload.fullHistory();
    let checked = false;
    if (this.checker.violations.length === 0) {
      const res = checkHistory(history);
      checked = true;
      if (!res.ok) {
        const why = res.exhausted === true ? 'exhausted the checker budget (inconclusive)' : 'is not linearizable';
        this.checker.violations.push({ kind: 'linearizability', message: `history of key ${res.badKey} ${why}` });
      }
    }
    return {
      seed: this.seed,
      violations: this.checker.violations,
      ops: history.length,
      linearizabilityChecked: checked,
      trace: this.traceBuf.slice(),
      ticks: this.now,
      messages: this.net.sent,
      asyncWrites: this.maxWriteDelayTicks !== null,
      overlap: [...this.nodes.values()].reduce((t, n) => ({ readies: t.readies + n.overlap.readies, crashes: t.crashes + n.overlap.crashes }), { readies: 0, crashes: 0 }),
    };
  }

  private step(): void {
    this.now++;
    for (const env of this.net.deliver(this.now)) {
      const node = this.nodes.get(env.to);
      const pl = env.payload;
      if ('raft' in pl) node?.onRaftMessage(pl.raft);
      else if ('req' in pl) node?.onClientRequest(pl.req);
      else this.workload.onResponse(this.now, pl.resp, this.sendRequest, this.clock);
    }
    for (const n of this.nodes.values()) if (n.rn !== null) n.rn.tick();
    for (const n of this.nodes.values()) {
      if (n.rn === null) continue;
      // A slow disk leaves a Ready unprocessed this tick: a crash now loses it.
      if (this.prng.chance(this.p.slowDisk)) continue;
      n.processReady();
    }
    this.workload.tick(this.now, this.targets(), this.sendRequest, this.clock);
    this.decommissionRemoved();
    if (this.checker.violations.length > 0) throw new StopRun(this.checker.violations[0]!.message);
  }

  /**
   * A removed server that never learns of its removal keeps campaigning and, without
   * check-quorum, disrupts the group (Raft dissertation §4.2.3); operators shut removed
   * servers down once the removal commits, and so does the simulator.
   */
  private decommissionRemoved(): void {
    if (this.removed.size === 0) return;
    const leader = this.leader();
    if (leader === undefined) return;
    const cs = leader.rn!.confStateAt(leader.rn!.raft.raftLog.committed);
    for (const id of this.removed) {
      if (cs.voters.includes(id) || cs.learners.includes(id)) continue;
      this.removed.delete(id);
      this.decommissioned.add(id);
      this.restartAt.delete(id);
      this.nodes.get(id)!.crash();
      this.trace(`t=${this.now} n${id} decommissioned (removal committed)`);
    }
  }

  private faultPhase(): void {
    const r = this.prng;
    while (this.now < this.faultTicks) {
      this.step();
      for (const [id, at] of this.restartAt) {
        if (at <= this.now) {
          this.restartAt.delete(id);
          this.nodes.get(id)!.start(this.prng);
          this.trace(`t=${this.now} n${id} restarts`);
        }
      }
      if (this.partitionEndsAt >= 0 && this.now >= this.partitionEndsAt) {
        this.net.heal();
        this.partitionEndsAt = -1;
        this.trace(`t=${this.now} partition healed`);
      }
      if (r.chance(this.p.crash)) this.crashOne();
      if (this.partitionEndsAt < 0 && r.chance(this.p.partition)) this.partitionSome();
      if (r.chance(this.p.conf)) this.changeMembership();
      if (r.chance(this.p.transfer)) this.transferLeadership();
      if (r.chance(this.p.snapshot)) {
        const n = r.pick([...this.nodes.values()]);
        n.snapshotAndCompact(r.pick([0, 1, 5, 30]));
      }
    }
  }

  private crashOne(): void {
    const up = [...this.nodes.values()].filter((n) => n.up && !this.decommissioned.has(n.id));
    if (up.length === 0) return;
    // Half the crashes hit the leader: leader churn is where commit rules are tested.
    const leader = this.leader();
    const n = leader !== undefined && this.prng.chance(0.5) ? leader : this.prng.pick(up);
    n.crash();
    this.restartAt.set(n.id, this.now + this.prng.range(5, this.prng.pick([20, 200])));
    this.trace(`t=${this.now} n${n.id} crashes`);
  }

  private partitionSome(): void {
    const r = this.prng;
    const ids = [...this.nodes.keys()];
    const kind = r.int(3);
    if (kind === 0) {
      // Symmetric split into a minority and a majority (or isolate the leader).
      const leader = this.leader();
      const shuffled = ids.slice().sort(() => 0).map((id) => ({ id, k: r.next() })).sort((a, b) => a.k - b.k).map((x) => x.id);
      const cut = r.range(1, Math.max(1, Math.floor(ids.length / 2)));
      let minority = shuffled.slice(0, cut);
      if (leader !== undefined && r.chance(0.5)) minority = [leader.id];
      const majority = ids.filter((id) => !minority.includes(id));
      this.net.partition([minority, majority]);
      this.trace(`t=${this.now} partition [${minority}] | [${majority}]`);
    } else if (kind === 1) {
      // Asymmetric: one node cannot reach the others but still hears them.
      const a = r.pick(ids);
      for (const b of ids) if (b !== a) this.net.cutOneWay(a, b);
      this.trace(`t=${this.now} n${a} cannot send to anyone`);
    } else {
      // Asymmetric: one node hears nobody but can still send.
      const a = r.pick(ids);
      for (const b of ids) if (b !== a) this.net.cutOneWay(b, a);
      this.trace(`t=${this.now} n${a} cannot receive from anyone`);
    }
    this.partitionEndsAt = this.now + r.range(20, 300);
  }

  private changeMembership(): void {
    const leader = this.leader();
    if (leader === undefined) return;
    const rn = leader.rn!;
    const cs = rn.status().confState;
    const r = this.prng;
    const members = cs.voters.length + cs.learners.length;
    const choice = r.int(5);
    let cc: { type: ConfChangeType; nodeId: number } | undefined;
    if (choice === 0 && members < MAX_NODES) {
      let spare = 0;
      for (let id = 1; id <= MAX_NODES; id++) if (!this.nodes.has(id)) { spare = id; break; }
      if (spare !== 0) cc = { type: ConfChangeType.AddLearner, nodeId: spare };
    } else if (choice === 1 && cs.learners.length > 0) {
      const l = r.pick(cs.learners);
      const pr = rn.status().progress?.get(l);
      if (pr !== undefined && pr.match + 5 >= rn.raft.raftLog.lastIndex()) cc = { type: ConfChangeType.AddVoter, nodeId: l };
    } else if (choice === 2 && cs.voters.length > 3) {
      cc = { type: ConfChangeType.RemoveNode, nodeId: r.pick(cs.voters) };
    } else if (choice === 3 && cs.learners.length > 0) {
      cc = { type: ConfChangeType.RemoveNode, nodeId: r.pick(cs.learners) };
    } else if (choice === 4 && cs.voters.length > 3) {
      // Demote a voter (possibly the leader) to a learner; it may be promoted again later.
      cc = { type: ConfChangeType.AddLearner, nodeId: r.pick(cs.voters) };
    }
    if (cc === undefined) return;
    try {
      rn.proposeConfChange({ ...cc, context: new Uint8Array(0) });
    } catch (err) {
      if (err instanceof ProposalDroppedError || err instanceof InvalidConfChangeError) return;
      throw err;
    }
    this.membershipChanged = true;
    this.trace(`t=${this.now} n${leader.id} proposes ${['add-voter', 'add-learner', 'remove'][cc.type]} n${cc.nodeId}`);
    if (cc.type === ConfChangeType.AddLearner && !this.nodes.has(cc.nodeId)) {
      const node = this.newNode(cc.nodeId);
      node.start(this.prng);
      this.nodes.set(cc.nodeId, node);
    }
    if (cc.type === ConfChangeType.RemoveNode) this.removed.add(cc.nodeId);
  }

  private transferLeadership(): void {
    const leader = this.leader();
    if (leader === undefined) return;
    const voters = leader.rn!.status().confState.voters.filter((id) => id !== leader.id);
    if (voters.length === 0) return;
    const to = this.prng.pick(voters);
    leader.rn!.transferLeader(to);
    this.trace(`t=${this.now} n${leader.id} transfers leadership to n${to}`);
  }

  private livenessPhase(): void {
    this.net.heal();
    this.net.faults = HEALTHY;
    for (const [id] of this.restartAt) this.nodes.get(id)!.start(this.prng);
    this.restartAt.clear();
    this.trace(`t=${this.now} healed: all nodes up, no faults`);
    const healedAt = this.now;
    const completedAtHeal = this.workload.clients.map((c) => c.completed);
    const deadline = healedAt + this.livenessTicks;
    while (this.now < deadline) {
      this.step();
      if (this.now - healedAt === Math.floor(this.livenessTicks / 3)) this.workload.issuing = false;
      const allProgressed = this.workload.clients.every((c, k) => c.completed > completedAtHeal[k]!);
      if (this.leader() !== undefined && this.workload.pendingCount() === 0 && allProgressed) {
        this.trace(`t=${this.now} live: leader n${this.leader()!.id}, every request answered`);
        return;
      }
    }
    const l = this.leader();
    this.checker.violations.push({
      kind: 'liveness',
      message: `no progress within ${this.livenessTicks} ticks after heal: leader ${l?.id ?? 'none'}, ${this.workload.pendingCount()} requests pending: ${this.workload.clients
        .filter((c) => c.outstanding !== null)
        .map((c) => `c${c.id}#${c.outstanding!.seq} ${c.outstanding!.input.kind}@n${c.outstanding!.target}`)
        .join(', ')}; nodes ${[...this.nodes.values()].map((n) => (n.rn === null ? `n${n.id}:down` : `n${n.id}:${n.rn.raft.state}/t${n.rn.raft.term}/c${n.rn.raft.raftLog.committed}/a${n.rn.raft.raftLog.applied}/l${n.rn.raft.lead}/v${n.rn.status().confState.voters.join('.')}`)).join(' ')}`,
    });
  }
}

export function formatFailure(r: SimResult): string {
  const lines = [`seed ${r.seed} FAILED (${r.violations.length} violation(s)); replay: npm run sim -- --seeds 1 --start ${r.seed}${r.asyncWrites ? ' --async' : ''}`];
  for (const v of r.violations) lines.push(`  ${v.kind}: ${v.message}`);
  lines.push('  trace (last events):');
  for (const t of r.trace) lines.push(`    ${t}`);
  return lines.join('\n');
}
