// Binary layout of a causal context (used inside deltas and handshakes):
//
//   varuint replicaCount
//   replicaCount × ( varuint replica | varuint rangeCount | rangeCount × (varuint gap, varuint length-1) )
//
// Ranges are delta-coded: `gap` is start − previous end − 1 (the first start − 1), so a
// plain version vector entry 1..n costs two small varints.
import { CausalContext } from '../clock/causal-context.ts';
import { RangeSet } from '../clock/range-set.ts';
import type { ReplicaId } from '../clock/replica-id.ts';
import { ErrorCode } from '../errors.ts';
import type { Reader } from './reader.ts';
import type { Writer } from './writer.ts';

/**
 * Writes `ctx`; `replicaRef` says how a replica is written (its id by default; the delta
 * codec passes its replica table's index).
 */
export function writeCausalContext(w: Writer, ctx: CausalContext, replicaRef: (replica: ReplicaId) => number = (r) => r): void {
  w.varuint(ctx.entries.size);
  for (const [replica, set] of ctx.entries) {
    w.varuint(replicaRef(replica));
    const r = set.ranges;
    w.varuint(r.length >> 1);
    let prevEnd = 0;
    for (let i = 0; i < r.length; i += 2) {
      w.varuint(r[i]! - prevEnd - 1);
      w.varuint(r[i + 1]! - r[i]!);
      prevEnd = r[i + 1]!;
    }
  }
}

export function readCausalContext(r: Reader): CausalContext {
  const ctx = new CausalContext();
  const n = r.count('context replicas', 2);
  for (let i = 0; i < n; i++) {
    const replica = r.varuint();
    if (replica === 0) r.fail(ErrorCode.DecodeInvalid, 'replica id 0');
    if (ctx.entries.has(replica as ReplicaId)) r.fail(ErrorCode.DecodeInvalid, `replica ${replica} listed twice`);
    const rangeCount = r.count('context ranges', 2);
    if (rangeCount === 0) r.fail(ErrorCode.DecodeInvalid, 'empty range list');
    const ranges: number[] = new Array(rangeCount * 2);
    let prevEnd = 0;
    for (let k = 0; k < rangeCount; k++) {
      const gap = r.varuint();
      const extra = r.varuint();
      // A gap of 0 after the first range would make two ranges adjacent: not canonical.
      if (k > 0 && gap === 0) r.fail(ErrorCode.DecodeInvalid, 'adjacent ranges');
      const start = prevEnd + gap + 1;
      const end = start + extra;
      if (end > Number.MAX_SAFE_INTEGER) r.fail(ErrorCode.DecodeInvalid, 'counter exceeds 2^53 - 1');
      ranges[k * 2] = start;
      ranges[k * 2 + 1] = end;
      prevEnd = end;
    }
    ctx.entries.set(replica as ReplicaId, new RangeSet(ranges));
  }
  return ctx;
}
