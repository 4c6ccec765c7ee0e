// Command handlers for the data-driven Raft scenarios (test/scenarios/raft/*.txt). Each
// handler takes the parsed arguments and returns the text it prints; output comes from the
// deterministic describe* helpers so that expected output is stable.
import {
  ConfChangeType,
  EMPTY_BYTES,
  MemoryStorage,
  STATE_NAMES,
  describeConfState,
  describeEntries,
  describeMessage,
  describeReady,
} from '../../../core/src/raft/index.ts';
import { Cluster, enc } from './harness.ts';

export interface Command {
  name: string;
  /** Positional arguments. */
  args: string[];
  /** key=value arguments. */
  kv: Map<string, string>;
}

export class ScenarioContext {
  cluster: Cluster | null = null;
  get c(): Cluster {
    if (this.cluster === null) throw new Error('no cluster: run `bootstrap` first');
    return this.cluster;
  }
}

type Handler = (ctx: ScenarioContext, cmd: Command) => string;

const num = (s: string | undefined, what: string): number => {
  const v = Number(s);
  if (s === undefined || !Number.isSafeInteger(v)) throw new Error(`${what}: expected an integer, got ${s}`);
  return v;
};

const flag = (cmd: Command, key: string, dflt: boolean): boolean => (cmd.kv.has(key) ? cmd.kv.get(key) === 'true' : dflt);

/** Delivers and processes until quiet, printing every Ready and every delivered message. */
function stabilize(ctx: ScenarioContext): string {
  const c = ctx.c;
  const out: string[] = [];
  for (let round = 0; round < 100; round++) {
    let busy = false;
    for (const n of c.nodes.values()) {
      if (!n.rn.hasReady()) continue;
      busy = true;
      const rd = n.rn.ready();
      const text = describeReady(rd);
      if (text !== '') out.push(`> ${n.id} ready`, ...text.split('\n').map((l) => `  ${l}`));
      if (rd.hardState !== null) n.storage.setHardState(rd.hardState);
      if (rd.snapshot !== null) n.storage.applySnapshot(rd.snapshot);
      n.storage.append(rd.entries);
      for (const m of rd.messages) c.queue.push(m);
      for (const e of rd.committedEntries) if (e.data.length > 0 && e.type === 0) n.applied.push(e);
      for (const rs of rd.readStates) n.reads.push(rs);
      n.rn.advance();
    }
    const q = c.queue;
    c.queue = [];
    for (const m of q) {
      busy = true;
      if (c.drop(m)) {
        out.push(`  dropped ${describeMessage(m)}`);
        continue;
      }
      c.nodes.get(m.to)?.rn.step(m);
    }
    if (!busy) break;
  }
  return out.join('\n');
}

function status(ctx: ScenarioContext, id: number): string {
  const s = ctx.c.node(id).rn.status();
  return `${id}: ${STATE_NAMES[s.softState.state]} term=${s.hardState.term} lead=${s.softState.lead} commit=${s.hardState.commit} applied=${s.applied} last=${s.lastIndex} ${describeConfState(s.confState)}`;
}

export const handlers: Record<string, Handler> = {
  bootstrap(ctx, cmd) {
    const voters = (cmd.kv.get('voters') ?? '1,2,3').split(',').map((s) => num(s, 'voters'));
    ctx.cluster = new Cluster(
      voters,
      {
        preVote: flag(cmd, 'prevote', true),
        checkQuorum: flag(cmd, 'checkquorum', true),
        leaseReads: flag(cmd, 'lease', false),
        electionTimeoutTicks: num(cmd.kv.get('election') ?? '10', 'election'),
      },
      num(cmd.kv.get('seed') ?? '1', 'seed'),
    );
    return `ok: ${voters.length} voters`;
  },
  campaign(ctx, cmd) {
    ctx.c.node(num(cmd.args[0], 'node')).rn.campaign();
    return 'ok';
  },
  stabilize(ctx) {
    return stabilize(ctx);
  },
  tick(ctx, cmd) {
    const count = num(cmd.kv.get('count') ?? '1', 'count');
    const ids = cmd.args.length > 0 ? cmd.args.map((a) => num(a, 'node')) : [...ctx.c.nodes.keys()];
    for (let k = 0; k < count; k++) for (const id of ids) ctx.c.node(id).rn.tick();
    return 'ok';
  },
  /** Ticks (all or the given nodes) and delivers everything, `count` times, printing only the final status. */
  settle(ctx, cmd) {
    const count = num(cmd.kv.get('count') ?? '1', 'count');
    const ids = cmd.args.length > 0 ? cmd.args.map((a) => num(a, 'node')) : [...ctx.c.nodes.keys()];
    for (let k = 0; k < count; k++) {
      for (const id of ids) ctx.c.node(id).rn.tick();
      stabilize(ctx);
    }
    return [...ctx.c.nodes.keys()].map((id) => status(ctx, id)).join('\n');
  },
  propose(ctx, cmd) {
    try {
      ctx.c.node(num(cmd.args[0], 'node')).rn.propose(enc(cmd.args[1] ?? ''));
      return 'ok';
    } catch (err) {
      return `error: ${(err as Error).message}`;
    }
  },
  'read-index'(ctx, cmd) {
    ctx.c.node(num(cmd.args[0], 'node')).rn.readIndex(enc(cmd.args[1] ?? 'r'));
    return 'ok';
  },
  'transfer-leader'(ctx, cmd) {
    ctx.c.node(num(cmd.kv.get('from'), 'from')).rn.transferLeader(num(cmd.kv.get('to'), 'to'));
    return 'ok';
  },
  'conf-change'(ctx, cmd) {
    const types: Record<string, ConfChangeType> = { 'add-voter': ConfChangeType.AddVoter, 'add-learner': ConfChangeType.AddLearner, remove: ConfChangeType.RemoveNode };
    const type = types[cmd.args[1] ?? ''];
    if (type === undefined) throw new Error(`conf-change: unknown change ${cmd.args[1]}`);
    const nodeId = num(cmd.args[2], 'node id');
    if (type !== ConfChangeType.RemoveNode && !ctx.c.nodes.has(nodeId)) ctx.c.start(nodeId, new MemoryStorage());
    try {
      ctx.c.node(num(cmd.args[0], 'node')).rn.proposeConfChange({ type, nodeId, context: EMPTY_BYTES });
      return 'ok';
    } catch (err) {
      return `error: ${(err as Error).message}`;
    }
  },
  isolate(ctx, cmd) {
    ctx.c.isolate(num(cmd.args[0], 'node'));
    return 'ok';
  },
  heal(ctx) {
    ctx.c.heal();
    return 'ok';
  },
  status(ctx, cmd) {
    const ids = cmd.args.length > 0 ? cmd.args.map((a) => num(a, 'node')) : [...ctx.c.nodes.keys()];
    return ids.map((id) => status(ctx, id)).join('\n');
  },
  log(ctx, cmd) {
    const n = ctx.c.node(num(cmd.args[0], 'node'));
    const s = n.storage;
    const ents = s.lastIndex() >= s.firstIndex() ? s.entries(s.firstIndex(), s.lastIndex() + 1, Infinity) : [];
    return `first=${s.firstIndex()} ${describeEntries(ents)}`;
  },
  compact(ctx, cmd) {
    const n = ctx.c.node(num(cmd.args[0], 'node'));
    const applied = n.rn.raft.raftLog.applied;
    n.storage.createSnapshot(applied, n.rn.confStateAt(applied), enc(`state@${applied}`));
    n.storage.compact(applied);
    n.rn.compacted(applied);
    return `snapshot at ${applied}`;
  },
  restart(ctx, cmd) {
    const id = num(cmd.args[0], 'node');
    ctx.c.start(id, ctx.c.node(id).storage);
    return status(ctx, id);
  },
  reads(ctx, cmd) {
    const n = ctx.c.node(num(cmd.args[0], 'node'));
    return n.reads.map((r) => `index=${r.index} ctx=${new TextDecoder().decode(r.context)}`).join('\n') || 'none';
  },
};
