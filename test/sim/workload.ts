// Concurrent clients: each has one operation outstanding at a time (get, put, delete or
// compare-and-set on a few hot keys), retries it on another node until answered, and
// records call and return times for the linearizability checker. Retries keep the same
// sequence number, so the state machine's session table applies a write at most once.
import type { Prng } from '../../core/src/testing/prng.ts';
import type { KvInput, KvOutput, Operation } from './checkers/linearizability.ts';

/** Client ids live above node ids in the network's address space. */
export const CLIENT_ID_BASE = 1000;

export type ClientRequest = { kind: 'request'; clientId: number; seq: number; input: KvInput };
export type ClientResponse =
  | { kind: 'response'; clientId: number; seq: number; output: KvOutput }
  | { kind: 'redirect'; clientId: number; seq: number; leader: number };

export interface WorkloadOptions {
  clients: number;
  keys: number;
  retryTicks: number;
  /** Chance per tick that an idle client starts an operation. */
  opRate: number;
}

interface Outstanding {
  seq: number;
  input: KvInput;
  call: number;
  lastSent: number;
  target: number;
}

export class Client {
  readonly id: number;
  seq = 0;
  outstanding: Outstanding | null = null;
  leaderHint = 0;
  completed = 0;

  constructor(id: number) {
    this.id = id;
  }
}

export class Workload {
  readonly clients: Client[] = [];
  readonly history: Operation[] = [];
  private readonly prng: Prng;
  readonly opts: WorkloadOptions;
  private valueCounter = 0;
  /** Set to false to stop starting new operations. */
  issuing = true;

  constructor(prng: Prng, opts: WorkloadOptions) {
    this.prng = prng;
    this.opts = opts;
    for (let k = 0; k < opts.clients; k++) this.clients.push(new Client(CLIENT_ID_BASE + k));
  }

  private randomInput(): KvInput {
    const key = `k${this.prng.int(this.opts.keys)}`;
    const r = this.prng.int(10);
    if (r < 4) return { kind: 'get', key };
    if (r < 7) return { kind: 'put', key, value: `v${++this.valueCounter}` };
    if (r < 8) return { kind: 'delete', key };
    const expected = this.prng.chance(0.3) ? null : `v${this.prng.range(Math.max(1, this.valueCounter - 5), Math.max(1, this.valueCounter))}`;
    return { kind: 'cas', key, expected, value: `v${++this.valueCounter}` };
  }

  /**
   * One tick of client activity: start new operations and resend stale ones. `send`
   * delivers a request to a node; `clock` returns a fresh event time.
   */
  tick(now: number, nodes: number[], send: (c: Client, to: number, req: ClientRequest) => void, clock: () => number): void {
    for (const c of this.clients) {
      const o = c.outstanding;
      if (o === null) {
        if (!this.issuing || !this.prng.chance(this.opts.opRate)) continue;
        const target = c.leaderHint !== 0 && nodes.includes(c.leaderHint) ? c.leaderHint : this.prng.pick(nodes);
        c.outstanding = { seq: ++c.seq, input: this.randomInput(), call: clock(), lastSent: now, target };
        send(c, target, { kind: 'request', clientId: c.id, seq: c.seq, input: c.outstanding.input });
      } else if (now - o.lastSent >= this.opts.retryTicks) {
        o.target = this.prng.chance(0.5) && c.leaderHint !== 0 && nodes.includes(c.leaderHint) ? c.leaderHint : this.prng.pick(nodes);
        o.lastSent = now;
        send(c, o.target, { kind: 'request', clientId: c.id, seq: o.seq, input: o.input });
      }
    }
  }

  /** Handles a node's answer; redirects are retried at once to the hinted leader. */
  onResponse(now: number, r: ClientResponse, send: (c: Client, to: number, req: ClientRequest) => void, clock: () => number): void {
    const c = this.clients[r.clientId - CLIENT_ID_BASE];
    if (c === undefined || c.outstanding === null || c.outstanding.seq !== r.seq) return;
    const o = c.outstanding;
    if (r.kind === 'redirect') {
      if (r.leader !== 0 && r.leader !== o.target) {
        c.leaderHint = r.leader;
        o.target = r.leader;
        o.lastSent = now;
        send(c, r.leader, { kind: 'request', clientId: c.id, seq: o.seq, input: o.input });
      }
      return;
    }
    this.history.push({ clientId: c.id, input: o.input, output: r.output, call: o.call, ret: clock() });
    c.outstanding = null;
    c.completed++;
  }

  pendingCount(): number {
    let n = 0;
    for (const c of this.clients) if (c.outstanding !== null) n++;
    return n;
  }

  /** The history with still-outstanding operations as unknown outcomes (return at +Infinity). */
  fullHistory(): Operation[] {
    const out = this.history.slice();
    for (const c of this.clients) {
      if (c.outstanding !== null) out.push({ clientId: c.id, input: c.outstanding.input, output: undefined, call: c.outstanding.call, ret: Infinity });
    }
    return out;
  }
}
