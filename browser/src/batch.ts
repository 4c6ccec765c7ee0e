// Atomic batches and replicated deletes, both through the origin (they need it: offline
// they fail fast with ConsistencyUnavailableError).
//
// A Batch collects puts, deletes and reads of the origin's strong key-value space (the one
// `set(k, v, { consistency: 'strong' })` writes) and `client.executeBatch(batch)` sends them
// as one POST /v1/batch: one Raft entry, all or nothing. A failed `ifVersion` rejects the
// whole batch with a BatchConflictError naming the key.
//
// `delete(key, { replicas: N })`: the delete is committed (strong: the origin's DELETE;
// otherwise the local CRDT delete, once the origin acknowledged it as committed), then the
// client polls GET /v1/cluster on every voting member until at least N of them report an
// appliedIndex at or past the delete's log index (strong: its version; CRDT: the connected
// node's commitIndex right after the acknowledgement, an upper bound of the entry's index).
// N larger than the voting members is a NotEnoughReplicasError before anything is changed.
import type { JsonValue } from '../../core/src/codec/json-value.ts';
import { InvalidArgumentError } from '../../core/src/errors.ts';
import type { DeleteOptions } from './client-options.ts';
import { withTimeout } from './client-util.ts';
import { ConsistencyUnavailableError, NotEnoughReplicasError } from './errors.ts';
import type { BatchOpJson, StrongApi } from './strong-api.ts';

export interface BatchOpOptions {
  /** Apply only if the key's version is this (0: only if the key does not exist). */
  readonly ifVersion?: number;
}

/** `client.createBatch()`: chain `set`, `delete` and `get`, then `client.executeBatch(batch)`. */
export class Batch {
  private readonly list: BatchOpJson[] = [];

  set(key: string, value: JsonValue, options: BatchOpOptions = {}): this {
    this.list.push({ op: 'put', key: checkKey(key), value, ...version(options) });
    return this;
  }

  delete(key: string, options: BatchOpOptions = {}): this {
    this.list.push({ op: 'delete', key: checkKey(key), ...version(options) });
    return this;
  }

  /** Reads `key` inside the batch (its result comes back in order with the writes'). */
  get(key: string, options: BatchOpOptions = {}): this {
    this.list.push({ op: 'get', key: checkKey(key), ...version(options) });
    return this;
  }

  get size(): number {
    return this.list.length;
  }

  /** A copy of the ops, in order. */
  get ops(): readonly BatchOpJson[] {
    return [...this.list];
  }
}

/** One op's outcome, in the batch's order. */
export type BatchOpResult =
  | { readonly op: 'put'; readonly key: string; readonly version: number }
  | { readonly op: 'delete'; readonly key: string; readonly found: boolean; readonly version: number }
  | { readonly op: 'get'; readonly key: string; readonly found: boolean; readonly value?: JsonValue; readonly version?: number };

export interface BatchResult {
  /** The log index the whole batch committed at. */
  readonly version: number;
  readonly results: readonly BatchOpResult[];
}

export async function executeBatch(strong: StrongApi, batch: Batch, timeoutMs: number): Promise<BatchResult> {
  if (batch.size === 0) throw new InvalidArgumentError('executeBatch: the batch is empty');
  const r = await strong.batch(batch.ops, timeoutMs);
  return { version: r.version, results: r.results as unknown as BatchOpResult[] };
}

const POLL_MS = 50;

/** Fails fast when the cluster has fewer than `replicas` voting members; returns their URLs. */
export async function checkReplicas(strong: StrongApi, replicas: number, timeoutMs: number): Promise<string[]> {
  if (!Number.isSafeInteger(replicas) || replicas < 1) throw new InvalidArgumentError('replicas must be a positive integer');
  const view = await strong.cluster(timeoutMs);
  const voters = view.members.filter((m) => !m.learner);
  if (replicas > voters.length) throw new NotEnoughReplicasError(replicas, voters.length);
  // The member we talk to is asked through the URL we reach it by (its own may be a bind address).
  return voters.map((m) => (m.id === view.id ? SELF : m.url));
}

/** Stands for "the origin the client is connected to" in a list of member URLs. */
const SELF = '';

/** Waits (bounded by `timeoutMs`) until `replicas` members applied the log through `index`. */
export async function waitForReplicas(strong: StrongApi, memberUrls: readonly string[], replicas: number, index: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let applied = 0;
  for (;;) {
    const views = await Promise.all(memberUrls.map((u) => strong.cluster(Math.min(1_000, timeoutMs), u === SELF ? undefined : u).catch(() => undefined)));
    applied = views.filter((v) => v !== undefined && v.appliedIndex >= index).length;
    if (applied >= replicas) return;
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  throw new ConsistencyUnavailableError(`only ${applied} of the ${replicas} replicas asked for applied index ${index} within ${timeoutMs} ms`);
}

function checkKey(key: string): string {
  if (typeof key !== 'string' || key.length === 0) throw new InvalidArgumentError('batch keys must be non-empty strings');
  return key;
}

function version(o: BatchOpOptions): { ifVersion?: number } {
  if (o.ifVersion === undefined) return {};
  if (!Number.isSafeInteger(o.ifVersion) || o.ifVersion < 0) throw new InvalidArgumentError('ifVersion must be a non-negative integer');
  return { ifVersion: o.ifVersion };
}

/**
 * `client.delete(key, options)`: strong (the origin's DELETE) or local (`deleteLocally`,
 * resolving once stored); with `replicas`, waits for the delete's commit (`committed`) and
 * then for that many members to apply it.
 */
export async function deleteKey(strong: StrongApi, key: string, options: DeleteOptions, timeoutMs: number, deleteLocally: () => Promise<void>, committed: () => Promise<void>): Promise<void> {
  const members = options.replicas === undefined ? undefined : await checkReplicas(strong, options.replicas, timeoutMs);
  let index: number | undefined;
  if (options.consistency === 'strong') {
    index = await strong.delete(key, timeoutMs);
  } else {
    await deleteLocally();
    if (members !== undefined) {
      await withTimeout(committed(), timeoutMs, `delete of ${JSON.stringify(key)} was not committed within ${timeoutMs} ms`);
      index = (await strong.cluster(timeoutMs)).commitIndex;
    }
  }
  if (members !== undefined && index !== undefined) await waitForReplicas(strong, members, options.replicas!, index, timeoutMs);
}
