// @neuroplex/core/sync: the pure sync protocol (messages, codec, sessions, multiplexer).
export { SyncErrorCode, SYNC_ERROR_CODES, RefuseReason, REFUSE_REASONS, SyncProtocolError } from './errors.ts';
export {
  SYNC_PROTOCOL_VERSION,
  MIN_SYNC_PROTOCOL_VERSION,
  versionRefusal,
  type ChannelId,
  type Resume,
  type PartialTransfer,
  SyncMode,
  AckLevel,
  TransferKind,
  type HelloMessage,
  type WelcomeMessage,
  type RefuseMessage,
  type DeltaMessage,
  type AckMessage,
  type ProgressMessage,
  type ChunkMessage,
  type ErrorMessage,
  type CloseMessage,
  type PresenceMessage,
  type LogMessage,
  type SyncMessage,
  type SyncMessageType,
  isHello,
  isWelcome,
  isRefuse,
  isDelta,
  isAck,
  isProgress,
  isChunk,
  isError,
  isClose,
  isPresence,
  isLog,
} from './messages.ts';
export {
  SyncEncoder,
  encodeMessage,
  decodeMessage,
  peekFrameHeader,
  type FrameHeader,
  type SyncCodecLimits,
  DEFAULT_SYNC_CODEC_LIMITS,
  MAX_PRESENCE_BYTES,
} from './codec.ts';
export {
  PresenceTable,
  type PresenceEntry,
  PresenceTooLargeError,
  PRESENCE_TOO_LARGE,
  encodePresenceState,
  decodePresenceState,
  DEFAULT_PRESENCE_HEARTBEAT_MS,
  DEFAULT_PRESENCE_TIMEOUT_MS,
} from './presence.ts';
export { SyncStatus, DeliverySource, type SyncEffect, type SyncEffectKind } from './effects.ts';
export { FlowWindow } from './flow-control.ts';
export { fnv1a32 } from './checksum.ts';
export { ClientSyncState, TransferBuffer, type PendingDelta } from './client-state.ts';
export { type KeyspaceSource, type LogEntry, type PositionedBytes } from './keyspace-source.ts';
export { MemoryKeyspaceLog, type MemoryKeyspaceLogOptions } from './memory-keyspace-log.ts';
export {
  SyncSession,
  SessionRole,
  type SessionOptions,
  DEFAULT_MAX_INFLIGHT_BYTES,
  DEFAULT_CHUNK_BYTES,
  DEFAULT_HANDSHAKE_TIMEOUT_TICKS,
  DEFAULT_MAX_UNSTORED_BYTES,
  decodeReplicaDelta,
} from './sync-session.ts';
export { ClientSyncSession, type ClientSessionOptions, type ClientReplicaView } from './client-session.ts';
export { ServerSyncSession, type ServerSessionOptions, type ServerSessionResumeState, type Authorize } from './server-session.ts';
export { Multiplexer, type MultiplexerOptions } from './multiplexer.ts';
export { PresenceRelay, type PresenceRelayOptions, type PresenceOwner, type PresenceChange } from './presence-relay.ts';
