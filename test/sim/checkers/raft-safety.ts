// Raft's safety properties (Raft paper, Figure 3), checked incrementally as the simulator
// runs: every leader election, every persisted append and every applied entry is checked
// against what the whole cluster has done so far.
//   Election safety:      at most one leader per term.
//   Log matching:         two logs with an entry of the same index and term hold the same
//                         data there and agree on the term before it (inductively: the
//                         same prefix).
//   Leader completeness:  a new leader's log holds every entry applied anywhere.
//   State machine safety: no two nodes apply different entries at one index.
//   Durability:           an entry applied anywhere is on the disks of a quorum (checked by
//                         the simulator, which sees the disks, while membership is fixed).
import type { Entry, Raft } from '../../../core/src/raft/index.ts';

export interface Violation {
  kind: 'election-safety' | 'log-matching' | 'leader-completeness' | 'state-machine-safety' | 'durability' | 'liveness' | 'linearizability' | 'crash';
  message: string;
}

function fingerprint(e: Entry): string {
  let h = 2166136261;
  for (let i = 0; i < e.data.length; i++) h = Math.imul(h ^ e.data[i]!, 16777619);
  return `${e.type}:${e.data.length}:${h >>> 0}`;
}

export class RaftSafetyChecker {
  private readonly leaders = new Map<number, number>();
  /** "index:term" -> fingerprint and previous term, for log matching. */
  private readonly logEntries = new Map<string, { fp: string; prevTerm: number | undefined }>();
  /** index -> term and fingerprint of the entry applied there. */
  private readonly applied = new Map<number, { term: number; fp: string }>();
  private maxApplied = 0;
  /** Per node: the last persisted term and vote (they survive crashes). */
  private readonly durable = new Map<number, { term: number; vote: number; commit: number }>();
  readonly violations: Violation[] = [];

  private fail(kind: Violation['kind'], message: string): void {
    if (this.violations.length < 20) this.violations.push({ kind, message });
  }

  onLeader(node: number, term: number, raft: Raft): void {
    const prev = this.leaders.get(term);
    if (prev !== undefined && prev !== node) this.fail('election-safety', `term ${term} has two leaders: ${prev} and ${node}`);
    this.leaders.set(term, node);
    // Leader completeness: every applied (hence committed) entry is in the new leader's log.
    const log = raft.raftLog;
    if (log.lastIndex() < this.maxApplied) {
      this.fail('leader-completeness', `leader ${node} (term ${term}) ends at ${log.lastIndex()} but ${this.maxApplied} is applied`);
      return;
    }
    for (let i = Math.max(1, log.firstIndex()); i <= this.maxApplied; i++) {
      const a = this.applied.get(i);
      if (a !== undefined && log.term(i) !== a.term) {
        this.fail('leader-completeness', `leader ${node} (term ${term}) has term ${log.term(i)} at ${i}, applied term ${a.term}`);
        return;
      }
    }
  }

  /** Entries just persisted by `node`; prevTerm is the term of the entry before the first. */
  onPersist(node: number, entries: Entry[], prevTerm: number | undefined): void {
    let before = prevTerm;
    for (const e of entries) {
      const key = `${e.index}:${e.term}`;
      const fp = fingerprint(e);
      const seen = this.logEntries.get(key);
      if (seen === undefined) {
        this.logEntries.set(key, { fp, prevTerm: before });
      } else {
        if (seen.fp !== fp) this.fail('log-matching', `node ${node}: entry ${key} differs from another node's`);
        if (seen.prevTerm !== undefined && before !== undefined && seen.prevTerm !== before) {
          this.fail('log-matching', `node ${node}: entry ${key} follows term ${before}, elsewhere term ${seen.prevTerm}`);
        }
        if (seen.prevTerm === undefined && before !== undefined) seen.prevTerm = before;
      }
      before = e.term;
    }
  }

  /**
   * Persisted hard state: the term never goes back, a node never votes twice in one term
   * (the basis of election safety), and the persisted commit index never goes back.
   */
  onHardState(node: number, hs: { term: number; vote: number; commit: number }): void {
    const prev = this.durable.get(node);
    if (prev !== undefined) {
      if (hs.term < prev.term) this.fail('election-safety', `node ${node} persisted term ${hs.term} after ${prev.term}`);
      if (hs.term === prev.term && prev.vote !== 0 && hs.vote !== prev.vote) {
        this.fail('election-safety', `node ${node} voted for ${prev.vote} then ${hs.vote} in term ${hs.term}`);
      }
      if (hs.commit < prev.commit) this.fail('state-machine-safety', `node ${node} persisted commit ${hs.commit} after ${prev.commit}`);
    }
    this.durable.set(node, { term: hs.term, vote: hs.vote, commit: hs.commit });
  }

  onApply(node: number, e: Entry): void {
    const fp = fingerprint(e);
    const a = this.applied.get(e.index);
    if (a === undefined) {
      this.applied.set(e.index, { term: e.term, fp });
      if (e.index > this.maxApplied) this.maxApplied = e.index;
    } else if (a.term !== e.term || a.fp !== fp) {
      this.fail('state-machine-safety', `node ${node} applied ${e.term}/${e.index}, another node applied ${a.term}/${e.index} there`);
    }
  }

  /** `node` applied `e` while only `holders` disks held it (or a snapshot past it), `needed` being a quorum. */
  onApplyDurability(node: number, e: Entry, holders: number, needed: number): void {
    if (holders < needed) this.fail('durability', `node ${node} applied ${e.term}/${e.index} held by ${holders} disks, a quorum is ${needed}`);
  }

  /** Snapshot installs count as applying everything up to their index. */
  onSnapshotApplied(node: number, index: number, term: number): void {
    const a = this.applied.get(index);
    if (a !== undefined && a.term !== term) this.fail('state-machine-safety', `node ${node} installed snapshot ${term}/${index}, applied term there is ${a.term}`);
  }

  get maxAppliedIndex(): number {
    return this.maxApplied;
  }
}
