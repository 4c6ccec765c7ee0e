// Extension point for store types defined outside crdt/ (text, list): they register how
// their payload is written and read, and the delta codec dispatches on the type byte.
import type { CausalContext } from '../../clock/causal-context.ts';
import type { ReplicaId } from '../../clock/replica-id.ts';
import type { DotStore } from '../../crdt/dot-store.ts';
import type { Reader } from '../reader.ts';
import type { Writer } from '../writer.ts';
import type { DecodeLimits } from './layout.ts';
import type { ReplicaTable } from './replica-table.ts';

export interface StoreCodec {
  write(w: Writer, store: DotStore, table: ReplicaTable): void;
  /** Reads a payload; every dot must be checked against `ctx` (the delta's context). */
  read(r: Reader, ids: readonly ReplicaId[], ctx: CausalContext, limits: DecodeLimits): DotStore;
}

const codecs = new Map<number, StoreCodec>();

export function registerStoreCodec(type: number, codec: StoreCodec): void {
  codecs.set(type, codec);
}

export function storeCodec(type: number): StoreCodec | undefined {
  return codecs.get(type);
}
