export { DELTA_FORMAT_VERSION, DeltaKind, MAX_MAP_DEPTH, type DecodeLimits, DEFAULT_DECODE_LIMITS } from './layout.ts';
export { DeltaEncoder, writeDot, writeContext, writeStore } from './encoder.ts';
export { decodeDelta, readDot, readStore, type DecodedDelta } from './decoder.ts';
export { ReplicaTable } from './replica-table.ts';
