// Last-writer-wins register: the write with the greatest hybrid-logical-clock stamp wins,
// ties broken by replica id, so every replica picks the same winner.
import type { Dot } from '../clock/dot.ts';
import { HybridLogicalClock } from '../clock/hlc.ts';
import type { ReplicaId } from '../clock/replica-id.ts';
import type { JsonValue } from '../codec/json-value.ts';
import { CausalCrdt } from './causal-crdt.ts';
import { CrdtType } from './dot-store.ts';
import type { Delta } from './delta.ts';
import { RegisterStore, RegisterValue } from './register-store.ts';

export class LWWRegister extends CausalCrdt<RegisterStore> {
  protected readonly clock = new HybridLogicalClock();

  constructor(replica: ReplicaId) {
    super(replica, new RegisterStore());
  }

  /** Writes `value` at physical time `physicalMs` (passed in: the core reads no clock). */
  set(value: JsonValue, physicalMs = 0): Delta<RegisterStore> {
    const d = this.nextDot();
    const seen: Dot[] = [];
    const part = this.store.write(new RegisterValue(d, value, this.clock.now(physicalMs)), seen);
    const foreign = seen.filter((x) => x.replica !== d.replica);
    return this.localDelta(d, part, seen, [{ path: [], dots: foreign, type: CrdtType.Register }]);
  }

  override applyDelta(delta: Delta<RegisterStore>, changed?: Set<string>): boolean {
    for (const v of delta.store?.values ?? []) this.clock.observe(v.stamp, 0);
    return super.applyDelta(delta, changed);
  }

  /** The winning value, or undefined before any write. */
  get value(): JsonValue | undefined {
    return this.store.winner()?.value;
  }
}
