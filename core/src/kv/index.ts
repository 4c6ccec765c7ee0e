// The replicated key-value state machine: commands, their codec, limits, the storage seam,
// the session table and snapshots.
export {
  KvValueType,
  KvCommandType,
  KvStatus,
  type KvSession,
  type PutCommand,
  type DeleteCommand,
  type CounterCommand,
  type SetCommand,
  type BatchOp,
  type BatchCommand,
  type KvCommand,
  type KvEntry,
  type BatchOpResult,
  type KvOk,
  type KvNotFound,
  type KvConflict,
  type KvTypeMismatch,
  type KvResult,
  type KvChange,
  type CrdtCommand,
  type CrdtDeltaItem,
} from './commands.ts';
export {
  CrdtKeyspaces,
  type CrdtKeyspace,
  type CrdtApplied,
  type CrdtLogEntry,
  CRDT_PREFIX,
  ORIGIN_REPLICA_ID,
  crdtKey,
  encodeCrdtRecord,
  decodeCrdtRecord,
} from './crdt-keyspaces.ts';
export { CRDT_TAIL_PREFIX, type StoredCrdtDelta, crdtTailKey, crdtTailPrefix, encodeCrdtTail, decodeCrdtTail, scanCrdtTail } from './crdt-tail.ts';
export { COMMAND_FORMAT_VERSION, MAX_CRDT_DELTAS, type CommandLimits, encodeCommand, decodeCommand, maxCommandBytes } from './command-codec.ts';
export { KvErrorCode, KvLimitError } from './errors.ts';
export {
  MAX_KEY_BYTES,
  DEFAULT_MAX_VALUE_BYTES,
  MAX_KEYSPACE_BYTES,
  MAX_CLIENT_ID_BYTES,
  MAX_BATCH_OPS,
  DEFAULT_KEYSPACE,
  utf8Length,
  checkKey,
  checkKeyspace,
  isKeyspace,
} from './limits.ts';
export { encodeEntry, decodeEntry, encodeResult, decodeResult } from './record-codec.ts';
export { SessionTable, DEFAULT_MAX_SESSIONS, sessionKey } from './session-table.ts';
export { type KvSnapshot, encodeSnapshot, decodeSnapshot, restoreSnapshot, SnapshotEncoder } from './snapshot.ts';
export { KvStateMachine, type KvStateMachineOptions, type ApplyOutcome, type IndexedCommand, dataKey } from './state-machine.ts';
export { type KvStorage, type StorageOp, type StorageEntry, type RangeOptions, compareCodePoints, frozenEntries, prefixEnd } from './storage.ts';
