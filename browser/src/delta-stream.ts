// Replica-to-replica sync over any transport the app has (WebRTC, postMessage, a file):
// `client.createDeltaStream(peerId)` yields encoded envelopes the peer lacks, then live
// changes; the peer hands each to `client.applyDelta(bytes)`, which validates it in full,
// applies it (never partially) and returns an acknowledgement the app may carry back to
// `stream.acknowledge(ack)`. A delta that brought something new is kept like a local change
// (stored, then sent to the origin), so it reaches the origin through whichever replica
// connects first. The next stream to a peer starts from the context it acknowledged (kept
// in memory per peerId; without one, from nothing, so the first stream sends the whole
// state). Deltas are joins: reordered or repeated envelopes converge all the same.
//
// Envelope (version 1):
//   u8 version = 1 | u8 kind | string keyspace | varuint sender replica id | body
//   kind 1 (delta): bytes  the delta (Replica.encodeDelta)
//   kind 2 (ack):   causal context of the receiver after applying (codec/causal-context.ts)
//
// The queue of a stream nobody reads is bounded: past `maxQueued` envelopes it is dropped and
// the stream sends one delta since the peer's acknowledged context instead (same result).
import { CausalContext } from '../../core/src/clock/causal-context.ts';
import type { ReplicaId } from '../../core/src/clock/replica-id.ts';
import { readCausalContext, writeCausalContext } from '../../core/src/codec/causal-context.ts';
import { Reader } from '../../core/src/codec/reader.ts';
import { Writer } from '../../core/src/codec/writer.ts';
import type { Delta } from '../../core/src/crdt/delta.ts';
import type { MapStore } from '../../core/src/crdt/map-store.ts';
import type { ChangeEvent, Replica } from '../../core/src/doc/replica.ts';
import { InvalidArgumentError } from '../../core/src/errors.ts';
import { InvalidDeltaError } from './errors.ts';

const ENVELOPE_VERSION = 1;
const KIND_DELTA = 1;
const KIND_ACK = 2;
const MAX_KEYSPACE_BYTES = 1024;
/** Largest delta body accepted (the core's decode limits still apply inside it). */
const MAX_DELTA_BYTES = 64 * 1024 * 1024;
const DEFAULT_MAX_QUEUED = 10_000;

export interface DeltaStreamOptions {
  /** Start from this context instead of the one the peer last acknowledged (an ack envelope). */
  readonly since?: Uint8Array;
  /** Envelopes kept for a slow reader before falling back to one catch-up delta (default 10,000). */
  readonly maxQueued?: number;
}

interface Envelope {
  readonly kind: number;
  readonly from: ReplicaId;
  readonly delta: Uint8Array | undefined;
  readonly context: CausalContext | undefined;
}

function encodeEnvelope(kind: number, keyspace: string, from: ReplicaId, body: (w: Writer) => void): Uint8Array {
  const w = new Writer();
  w.varuint(ENVELOPE_VERSION);
  w.varuint(kind);
  w.string(keyspace);
  w.varuint(from);
  body(w);
  return w.finish();
}

function decodeEnvelope(bytes: unknown, keyspace: string): Envelope {
  if (!(bytes instanceof Uint8Array)) throw new InvalidDeltaError('a delta must be a Uint8Array');
  try {
    const r = new Reader(bytes);
    const version = r.varuint();
    if (version !== ENVELOPE_VERSION) throw new InvalidDeltaError(`delta envelope version ${version} is not supported (this client reads ${ENVELOPE_VERSION})`);
    const kind = r.varuint();
    const ks = r.string(MAX_KEYSPACE_BYTES);
    if (ks !== keyspace) throw new InvalidDeltaError(`delta is for keyspace ${JSON.stringify(ks)}, this client holds ${JSON.stringify(keyspace)}`);
    const from = r.varuint() as ReplicaId;
    if (from === 0) throw new InvalidDeltaError('delta sender replica id 0');
    let env: Envelope;
    if (kind === KIND_DELTA) env = { kind, from, delta: r.bytes(MAX_DELTA_BYTES), context: undefined };
    else if (kind === KIND_ACK) env = { kind, from, delta: undefined, context: readCausalContext(r) };
    else throw new InvalidDeltaError(`unknown delta envelope kind ${kind}`);
    r.end();
    return env;
  } catch (e) {
    if (e instanceof InvalidDeltaError) throw e;
    throw new InvalidDeltaError(`malformed delta envelope: ${(e as Error).message}`, { cause: e });
  }
}

/** One outgoing stream to a peer: an async iterator of envelopes. */
export class DeltaStream {
  readonly peerId: string;
  private queue: Uint8Array[] = [];
  private catchUp = true;
  private waiter: ((r: IteratorResult<Uint8Array>) => void) | undefined;
  private done = false;

  constructor(
    private readonly peers: DeltaPeers,
    peerId: string,
    private readonly maxQueued: number,
  ) {
    this.peerId = peerId;
  }

  /** Envelopes to send to the peer: first what it lacks, then every change as it happens. */
  receive(): AsyncIterableIterator<Uint8Array> {
    return {
      next: () => this.next(),
      return: async () => {
        this.close();
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  /** The peer's acknowledgement (what its `applyDelta` returned): later catch-ups start there. */
  acknowledge(ack: Uint8Array): void {
    this.peers.acknowledge(this.peerId, ack);
  }

  close(): void {
    if (this.done) return;
    this.done = true;
    this.queue = [];
    this.peers.detach(this);
    this.waiter?.({ value: undefined, done: true });
    this.waiter = undefined;
  }

  /** @internal A live change for the peer. */
  push(envelope: Uint8Array): void {
    if (this.done || this.catchUp) return; // a pending catch-up will include it
    if (this.waiter !== undefined) {
      const w = this.waiter;
      this.waiter = undefined;
      w({ value: envelope, done: false });
      return;
    }
    this.queue.push(envelope);
    if (this.queue.length > this.maxQueued) {
      this.queue = [];
      this.catchUp = true;
    }
  }

  private next(): Promise<IteratorResult<Uint8Array>> {
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    if (this.catchUp) {
      this.catchUp = false;
      const env = this.peers.catchUp(this.peerId);
      if (env !== undefined) return Promise.resolve({ value: env, done: false });
    }
    const q = this.queue.shift();
    if (q !== undefined) return Promise.resolve({ value: q, done: false });
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }
}

/** Every stream of one client, the contexts peers acknowledged, and incoming deltas. */
export class DeltaPeers {
  private readonly streams = new Set<DeltaStream>();
  private readonly acked = new Map<string, CausalContext>();

  constructor(
    private readonly replica: Replica,
    private readonly keyspace: string,
    /**
     * Keeps a peer's delta that brought something new as if it were a local change (stored,
     * then sent to the origin), so it reaches the origin through whichever replica connects
     * first. Resolves when it is durable.
     */
    private readonly keep: (bytes: Uint8Array) => Promise<void>,
    private readonly onApplied: (delta: Delta<MapStore>, changed: readonly ChangeEvent[]) => void,
  ) {}

  open(peerId: string, options: DeltaStreamOptions = {}): DeltaStream {
    if (typeof peerId !== 'string' || peerId.length === 0) throw new InvalidArgumentError('peerId must be a non-empty string');
    if (options.since !== undefined) this.acknowledge(peerId, options.since);
    const stream = new DeltaStream(this, peerId, options.maxQueued ?? DEFAULT_MAX_QUEUED);
    this.streams.add(stream);
    return stream;
  }

  /** Sends a change this replica now holds to every open stream. */
  forward(delta: Delta<MapStore>): void {
    if (this.streams.size === 0) return;
    const env = this.deltaEnvelope(this.replica.encodeDelta(delta));
    for (const s of this.streams) s.push(env);
  }

  /** Validates and applies a peer's delta envelope; returns the acknowledgement to send back. */
  async apply(bytes: Uint8Array): Promise<Uint8Array> {
    const env = decodeEnvelope(bytes, this.keyspace);
    if (env.kind !== KIND_DELTA) throw new InvalidDeltaError('expected a delta envelope, got an acknowledgement (pass it to stream.acknowledge)');
    let delta: Delta<MapStore>;
    try {
      delta = this.replica.decodeDelta(env.delta!);
    } catch (e) {
      throw new InvalidDeltaError(`malformed delta from replica ${env.from}: ${(e as Error).message}`, { cause: e });
    }
    const fresh = !this.replica.contextOf().includes(delta.context);
    const changed = this.replica.applyDelta(delta);
    this.onApplied(delta, changed);
    if (fresh) await this.keep(env.delta!);
    return encodeEnvelope(KIND_ACK, this.keyspace, this.replica.id, (w) => writeCausalContext(w, this.replica.contextOf()));
  }

  acknowledge(peerId: string, ack: Uint8Array): void {
    const env = decodeEnvelope(ack, this.keyspace);
    if (env.kind !== KIND_ACK) throw new InvalidDeltaError('expected an acknowledgement envelope');
    const known = this.acked.get(peerId);
    if (known === undefined) this.acked.set(peerId, env.context!);
    else known.merge(env.context!);
  }

  /** @internal The delta the peer lacks since its acknowledged context, if any. */
  catchUp(peerId: string): Uint8Array | undefined {
    const delta = this.replica.deltaSince(this.acked.get(peerId) ?? new CausalContext());
    return delta.isEmpty ? undefined : this.deltaEnvelope(this.replica.encodeDelta(delta));
  }

  /** @internal */
  detach(stream: DeltaStream): void {
    this.streams.delete(stream);
  }

  closeAll(): void {
    for (const s of [...this.streams]) s.close();
  }

  private deltaEnvelope(deltaBytes: Uint8Array): Uint8Array {
    return encodeEnvelope(KIND_DELTA, this.keyspace, this.replica.id, (w) => w.bytes(deltaBytes));
  }
}
