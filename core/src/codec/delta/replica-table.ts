// Maps replica ids to small indexes while encoding, and back while decoding.
import type { ReplicaId } from '../../clock/replica-id.ts';

export class ReplicaTable {
  readonly ids: ReplicaId[] = [];
  private readonly index = new Map<ReplicaId, number>();

  indexOf(id: ReplicaId): number {
    let i = this.index.get(id);
    if (i === undefined) {
      i = this.ids.length;
      this.ids.push(id);
      this.index.set(id, i);
    }
    return i;
  }

  reset(): void {
    this.ids.length = 0;
    this.index.clear();
  }
}
