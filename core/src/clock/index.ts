export { type ReplicaId, MAX_REPLICA_ID, isReplicaId, replicaId, replicaIdFromBytes } from './replica-id.ts';
export { type Dot, dot, dotEquals, compareDots, formatDot } from './dot.ts';
export { RangeSet } from './range-set.ts';
export { CausalContext } from './causal-context.ts';
export { VersionVector, VectorOrder } from './version-vector.ts';
export { type HlcTimestamp, ZERO_TIMESTAMP, compareTimestamps, HybridLogicalClock } from './hlc.ts';
