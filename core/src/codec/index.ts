export { Writer } from './writer.ts';
export { Reader } from './reader.ts';
export { type JsonValue, writeJson, readJson, isJsonValue, canonicalJson, MAX_JSON_DEPTH } from './json-value.ts';
export { writeCausalContext, readCausalContext } from './causal-context.ts';
export {
  DELTA_FORMAT_VERSION,
  DeltaKind,
  MAX_MAP_DEPTH,
  type DecodeLimits,
  DEFAULT_DECODE_LIMITS,
  DeltaEncoder,
  decodeDelta,
  type DecodedDelta,
  ReplicaTable,
} from './delta/index.ts';
