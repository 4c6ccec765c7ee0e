// The removals a replica knows of, by the dot of the op that made them. `deltaSince`
// sends the ones a peer has not seen; `collectGarbage` drops the ones every known
// replica has seen (the only removals anyone could still need are the unseen ones).
import type { CausalContext } from '../clock/causal-context.ts';
import type { ReplicaId } from '../clock/replica-id.ts';
import type { RemovalEntry } from './dot-store.ts';

export class RemovalLog {
  private readonly byReplica = new Map<ReplicaId, Map<number, RemovalEntry>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  has(replica: ReplicaId, counter: number): boolean {
    return this.byReplica.get(replica)?.has(counter) ?? false;
  }

  get(replica: ReplicaId, counter: number): RemovalEntry | undefined {
    return this.byReplica.get(replica)?.get(counter);
  }

  add(entry: RemovalEntry): void {
    let m = this.byReplica.get(entry.op.replica);
    if (m === undefined) {
      m = new Map();
      this.byReplica.set(entry.op.replica, m);
    }
    if (!m.has(entry.op.counter)) {
      m.set(entry.op.counter, entry);
      this.count++;
    }
  }

  /** Entries whose op is not in `ctx`. */
  since(ctx: CausalContext): RemovalEntry[] {
    const out: RemovalEntry[] = [];
    for (const [replica, m] of this.byReplica) {
      for (const [counter, entry] of m) if (!ctx.has(replica, counter)) out.push(entry);
    }
    return out;
  }

  all(): RemovalEntry[] {
    const out: RemovalEntry[] = [];
    for (const m of this.byReplica.values()) for (const entry of m.values()) out.push(entry);
    return out;
  }

  /** Drops entries whose op is in `stable`; returns how many were dropped. */
  collectGarbage(stable: CausalContext): number {
    let dropped = 0;
    for (const [replica, m] of this.byReplica) {
      for (const counter of m.keys()) {
        if (stable.has(replica, counter)) {
          m.delete(counter);
          dropped++;
        }
      }
      if (m.size === 0) this.byReplica.delete(replica);
    }
    this.count -= dropped;
    return dropped;
  }
}
