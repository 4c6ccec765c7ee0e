// Presence: ephemeral per-keyspace state of the peers of a sync session (a cursor, a name,
// a colour). It travels in `presence` messages beside the sync protocol and is never
// stored, logged or replicated through Raft. This file holds the pure parts every shell
// shares: encoding a state, and the table a relay (origin node, edge) or a client keeps of
// who is present, with expiry driven by the time the shell passes in (no clocks here).
//
// Lifetime of an entry: set by a presence message (a client re-sends its state as a
// heartbeat, ~10 s); removed by an explicit leave (state undefined), by the end of the
// session or link that announced it (removeOwner), or by expire() once it has not been
// heard from for the table's timeout (~30 s: a crashed client or a lost node).
//
// Compatibility within protocol version 1: a server sends presence on a session only
// after the client sent one there, so a client that predates presence never sees the
// message. A new client on an old server gets the channel ended with SYNC_MALFORMED
// (unknown message type 10): loud, and the client turns presence off (browser shell).
import type { ReplicaId } from '../clock/replica-id.ts';
import { type JsonValue, readJson, writeJson } from '../codec/json-value.ts';
import { Reader } from '../codec/reader.ts';
import { Writer } from '../codec/writer.ts';
import { InvalidArgumentError, NeuroplexError } from '../errors.ts';
import { MAX_PRESENCE_BYTES } from './codec.ts';

/** Default heartbeat period of a client (it re-sends its state this often). */
export const DEFAULT_PRESENCE_HEARTBEAT_MS = 10_000;
/** Default time after which a relay or client drops a peer it has not heard from. */
export const DEFAULT_PRESENCE_TIMEOUT_MS = 30_000;

export const PRESENCE_TOO_LARGE = 'PRESENCE_TOO_LARGE';

/** A presence state larger than the limit (MAX_PRESENCE_BYTES encoded, by default). */
export class PresenceTooLargeError extends NeuroplexError {
  declare readonly code: typeof PRESENCE_TOO_LARGE;
  readonly bytes: number;
  readonly maxBytes: number;
  constructor(bytes: number, maxBytes: number) {
    super(PRESENCE_TOO_LARGE, `presence state of ${bytes} encoded bytes exceeds ${maxBytes}`);
    this.name = 'PresenceTooLargeError';
    this.bytes = bytes;
    this.maxBytes = maxBytes;
  }
}

/** Encodes a presence state: InvalidArgumentError when not JSON, PresenceTooLargeError when too large. */
export function encodePresenceState(state: JsonValue, maxBytes = MAX_PRESENCE_BYTES): Uint8Array {
  const w = new Writer(64);
  try {
    writeJson(w, state);
  } catch (e) {
    throw new InvalidArgumentError(`presence state is not a JSON value: ${(e as Error).message}`);
  }
  const bytes = w.finish();
  if (bytes.length > maxBytes) throw new PresenceTooLargeError(bytes.length, maxBytes);
  return bytes;
}

/** Decodes a state the codec already validated (or throws DecodeError). */
export function decodePresenceState(bytes: Uint8Array): JsonValue {
  const r = new Reader(bytes);
  const v = readJson(r, MAX_PRESENCE_BYTES);
  r.end();
  return v;
}

export interface PresenceEntry<Owner> {
  readonly peer: ReplicaId;
  readonly state: Uint8Array;
  /** Who announced it (a session, a link, a node): its end removes the entry. */
  readonly owner: Owner;
  /** When it was last heard of, in the shell's milliseconds. */
  readonly seenMs: number;
}

/** Who is present, by peer; pure, time comes in as `nowMs`. */
export class PresenceTable<Owner> {
  readonly timeoutMs: number;
  private readonly entries = new Map<ReplicaId, PresenceEntry<Owner>>();

  constructor(timeoutMs = DEFAULT_PRESENCE_TIMEOUT_MS) {
    this.timeoutMs = timeoutMs;
  }

  get size(): number {
    return this.entries.size;
  }

  get(peer: ReplicaId): PresenceEntry<Owner> | undefined {
    return this.entries.get(peer);
  }

  all(): IterableIterator<PresenceEntry<Owner>> {
    return this.entries.values();
  }

  /**
   * Applies one presence message (state undefined: the peer left). Returns true when what
   * is present changed (a new peer, a new state, a leave); a heartbeat only refreshes. A
   * leave counts only from the entry's owner: a client that moved to another session (or
   * node) and announced itself there is not removed by its old session's late leave.
   */
  apply(peer: ReplicaId, state: Uint8Array | undefined, owner: Owner, nowMs: number): boolean {
    const old = this.entries.get(peer);
    if (state === undefined) return old !== undefined && old.owner === owner && this.entries.delete(peer);
    this.entries.set(peer, { peer, state, owner, seenMs: nowMs });
    return old === undefined || !sameBytes(old.state, state);
  }

  /** The owner is gone (session ended, link lost): the peers it announced leave. */
  removeOwner(owner: Owner): ReplicaId[] {
    const gone: ReplicaId[] = [];
    for (const [peer, e] of this.entries) {
      if (e.owner === owner) {
        this.entries.delete(peer);
        gone.push(peer);
      }
    }
    return gone;
  }

  /** Drops the peers not heard from within the timeout; returns them. */
  expire(nowMs: number): ReplicaId[] {
    const gone: ReplicaId[] = [];
    for (const [peer, e] of this.entries) {
      if (nowMs - e.seenMs >= this.timeoutMs) {
        this.entries.delete(peer);
        gone.push(peer);
      }
    }
    return gone;
  }

  clear(): void {
    this.entries.clear();
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
