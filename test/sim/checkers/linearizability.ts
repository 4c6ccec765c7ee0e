// Linearizability checker for the key-value model: Wing & Gong's search with Lowe's
// memoization (as in Porcupine), run separately per key (P-compositionality: a history is
// linearizable iff each key's sub-history is, since every operation touches one key).
// An operation whose outcome is unknown (no answer) returns at +Infinity and matches any
// output, so it may be linearized anywhere after its call, including "never".

export type KvInput =
  | { kind: 'get'; key: string }
  | { kind: 'put'; key: string; value: string }
  | { kind: 'delete'; key: string }
  | { kind: 'cas'; key: string; expected: string | null; value: string };

export type KvOutput = { value: string | null } | { ok: boolean } | Record<string, never>;

export interface Operation {
  clientId: number;
  input: KvInput;
  /** undefined when the outcome is unknown. */
  output: KvOutput | undefined;
  call: number;
  /** +Infinity when no answer arrived. */
  ret: number;
}

export interface CheckResult {
  ok: boolean;
  /** A key whose history is not linearizable, if any. */
  badKey?: string;
  /** Search steps used (for reporting). */
  steps: number;
  /** The search budget ran out: the result is inconclusive, not a proof of a violation. */
  exhausted?: boolean;
}

type State = string | null;

/** The sequential specification of one key. Returns the next state, or undefined if `output` is impossible. */
export function stepModel(state: State, input: KvInput, output: KvOutput | undefined): State | undefined {
  switch (input.kind) {
    case 'get':
      if (output !== undefined && (output as { value: string | null }).value !== state) return undefined;
      return state;
    case 'put':
      return input.value;
    case 'delete':
      return null;
    case 'cas': {
      const swapped = state === input.expected;
      if (output !== undefined && (output as { ok: boolean }).ok !== swapped) return undefined;
      return swapped ? input.value : state;
    }
  }
}

interface Node {
  op: number;
  isCall: boolean;
  time: number;
  match: Node | null;
  prev: Node | null;
  next: Node | null;
}

const DEFAULT_BUDGET = 20_000_000;

/** Checks one key's operations. */
export function checkKey(ops: Operation[], budget = DEFAULT_BUDGET): { ok: boolean; steps: number; exhausted: boolean } {
  const n = ops.length;
  if (n === 0) return { ok: true, steps: 0, exhausted: false };
  const events: Node[] = [];
  for (let i = 0; i < n; i++) {
    const call: Node = { op: i, isCall: true, time: ops[i]!.call, match: null, prev: null, next: null };
    const ret: Node = { op: i, isCall: false, time: ops[i]!.ret, match: call, prev: null, next: null };
    call.match = ret;
    events.push(call, ret);
  }
  // Calls before returns at equal times: overlapping at one instant counts as concurrent.
  events.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? a.op - b.op : a.isCall ? -1 : 1));
  const head: Node = { op: -1, isCall: false, time: -Infinity, match: null, prev: null, next: null };
  let prev = head;
  for (const e of events) {
    prev.next = e;
    e.prev = prev;
    prev = e;
  }
  const words = Math.ceil(n / 32);
  const linearized = new Uint32Array(words);
  const cache = new Map<string, State[]>();
  const stack: { node: Node; state: State }[] = [];
  let state: State = null;
  let entry: Node | null = head.next;
  let steps = 0;
  const lift = (e: Node): void => {
    e.prev!.next = e.next;
    e.next!.prev = e.prev;
    const m = e.match!;
    m.prev!.next = m.next;
    if (m.next !== null) m.next.prev = m.prev;
  };
  const unlift = (e: Node): void => {
    const m = e.match!;
    m.prev!.next = m;
    if (m.next !== null) m.next.prev = m;
    e.prev!.next = e;
    e.next!.prev = e;
  };
  while (head.next !== null) {
    if (++steps > budget) return { ok: false, steps, exhausted: true };
    const e = entry!;
    if (e.isCall) {
      const next = stepModel(state, ops[e.op]!.input, ops[e.op]!.output);
      let advanced = false;
      if (next !== undefined) {
        linearized[e.op >>> 5]! |= 1 << (e.op & 31);
        const key = linearized.join(',');
        const seen = cache.get(key);
        if (seen === undefined || !seen.includes(next)) {
          if (seen === undefined) cache.set(key, [next]);
          else seen.push(next);
          stack.push({ node: e, state });
          state = next;
          lift(e);
          entry = head.next;
          advanced = true;
        } else {
          linearized[e.op >>> 5]! &= ~(1 << (e.op & 31));
        }
      }
      if (!advanced) entry = e.next;
    } else {
      // A return whose call is not linearized yet: backtrack.
      const top = stack.pop();
      if (top === undefined) return { ok: false, steps, exhausted: false };
      state = top.state;
      linearized[top.node.op >>> 5]! &= ~(1 << (top.node.op & 31));
      unlift(top.node);
      entry = top.node.next;
    }
  }
  return { ok: true, steps, exhausted: false };
}

/**
 * Drops puts with no answer whose value no operation observed (no read returned it, no
 * compare-and-set expected it). Sound: in any linearization that places such a put, no
 * observation falls between it and the next write (none saw its value), so removing it
 * leaves every other operation's output valid; and "never applied" was allowed anyway.
 * Each one otherwise multiplies the search (it may go anywhere after its call), which is
 * what exhausts the budget when a partition leaves many writes unanswered.
 */
function withoutUnobservedLostPuts(ops: readonly Operation[]): Operation[] {
  const observed = new Set<string>();
  for (const op of ops) {
    if (op.input.kind === 'get' && op.output !== undefined) {
      const v = (op.output as { value: string | null }).value;
      if (v !== null) observed.add(`${op.input.key}\u0000${v}`);
    } else if (op.input.kind === 'cas' && op.input.expected !== null) observed.add(`${op.input.key}\u0000${op.input.expected}`);
  }
  return ops.filter((op) => !(op.input.kind === 'put' && op.output === undefined && !observed.has(`${op.input.key}\u0000${op.input.value}`)));
}

/** Checks a whole history, key by key. */
export function checkHistory(history: Operation[], budget = DEFAULT_BUDGET): CheckResult {
  const ops = withoutUnobservedLostPuts(history);
  const byKey = new Map<string, Operation[]>();
  for (const op of ops) {
    let list = byKey.get(op.input.key);
    if (list === undefined) byKey.set(op.input.key, (list = []));
    list.push(op);
  }
  let steps = 0;
  for (const [key, list] of byKey) {
    const r = checkKey(list, budget);
    steps += r.steps;
    if (!r.ok) return { ok: false, badKey: key, steps, exhausted: r.exhausted };
  }
  return { ok: true, steps };
}
