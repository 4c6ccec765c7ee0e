// Strong operations over the origin's HTTP API (linearizable through Raft). They need an
// origin: while the client is offline they fail fast with ConsistencyUnavailableError, and
// a request that cannot reach the origin fails the same way. Note: the strong key-value
// space (/v1/kv) is the origin's register store, separate from the keyspace's CRDTs.
import type { JsonValue } from '../../core/src/codec/json-value.ts';
import { BatchConflictError, ConsistencyUnavailableError, OriginError } from './errors.ts';

export interface StrongEntry {
  readonly value: JsonValue;
  readonly version: number;
}

export class StrongApi {
  constructor(
    private readonly keyspace: string,
    /** The HTTP base URL of an origin believed reachable, or undefined when offline. */
    private readonly base: () => string | undefined,
    private readonly fetchFn: typeof fetch,
  ) {}

  async get(key: string, timeoutMs: number): Promise<StrongEntry | undefined> {
    const r = await this.kv('GET', key, `consistency=strong&timeout=${timeoutMs}`, undefined, timeoutMs);
    return r === undefined ? undefined : { value: r.value as JsonValue, version: r.version as number };
  }

  async put(key: string, value: JsonValue, timeoutMs: number): Promise<number> {
    const r = await this.kv('PUT', key, `timeout=${timeoutMs}`, { value }, timeoutMs);
    return r!.version as number;
  }

  /** The delete's version (log index), or undefined when the key did not exist. */
  async delete(key: string, timeoutMs: number): Promise<number | undefined> {
    const r = await this.kv('DELETE', key, `timeout=${timeoutMs}`, undefined, timeoutMs);
    return r === undefined ? undefined : (r.version as number);
  }

  /** POST /v1/batch: all or nothing. A failed precondition is a BatchConflictError. */
  async batch(ops: readonly BatchOpJson[], timeoutMs: number): Promise<{ version: number; results: Record<string, unknown>[] }> {
    const r = await this.request('POST', `/v1/batch?ks=${encodeURIComponent(this.keyspace)}&timeout=${timeoutMs}`, { ops }, timeoutMs, `batch of ${ops.length}`);
    return { version: r!.version as number, results: (r!.results ?? []) as Record<string, unknown>[] };
  }

  /** GET /v1/cluster of the origin the client talks to, or of `base` (another member). */
  async cluster(timeoutMs: number, base?: string): Promise<ClusterView> {
    const r = await this.request('GET', '/v1/cluster', undefined, timeoutMs, 'cluster', base);
    return r as unknown as ClusterView;
  }

  private kv(method: string, key: string, query: string, body: unknown, timeoutMs: number): Promise<Record<string, unknown> | undefined> {
    const path = `/v1/kv/${encodeURIComponent(key)}?ks=${encodeURIComponent(this.keyspace)}&${query}`;
    return this.request(method, path, body, timeoutMs, `${method} of ${JSON.stringify(key)}`);
  }

  private async request(method: string, path: string, body: unknown, timeoutMs: number, what: string, baseOverride?: string): Promise<Record<string, unknown> | undefined> {
    const base = baseOverride ?? this.base();
    if (base === undefined) throw new ConsistencyUnavailableError(`strong ${what} needs the origin, and the client is offline`);
    let res: Response;
    try {
      res = await this.fetchFn(`${base}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? null : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs + 1_000),
      });
    } catch (cause) {
      throw new ConsistencyUnavailableError(`strong ${what}: the origin did not answer (${(cause as Error).message})`, { cause });
    }
    const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (res.ok) return json;
    const err = (json.error ?? {}) as { code?: string; message?: string; key?: unknown; version?: unknown };
    if (res.status === 404 && err.code === 'KEY_NOT_FOUND') return undefined;
    if (res.status === 503 || res.status === 504) {
      throw new ConsistencyUnavailableError(`strong ${what}: ${err.message ?? res.statusText}`);
    }
    if (res.status === 409 && err.code === 'PRECONDITION_FAILED' && typeof err.key === 'string') {
      throw new BatchConflictError(err.key, typeof err.version === 'number' ? err.version : 0, err.message ?? 'precondition failed');
    }
    throw new OriginError(res.status, err.code ?? 'UNKNOWN', err.message ?? `HTTP ${res.status}`);
  }
}

/** One op of POST /v1/batch, as the origin reads it. */
export type BatchOpJson =
  | { readonly op: 'put'; readonly key: string; readonly value: JsonValue; readonly ifVersion?: number }
  | { readonly op: 'delete' | 'get'; readonly key: string; readonly ifVersion?: number };

/** What GET /v1/cluster answers (the fields the client reads). */
export interface ClusterView {
  readonly id: string;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly members: readonly { readonly id: string; readonly url: string; readonly learner: boolean }[];
}

/** ws://host:port/v1/sync -> http://host:port (wss -> https). */
export function httpBaseOf(syncUrl: string): string {
  const u = new URL(syncUrl);
  const protocol = u.protocol === 'wss:' ? 'https:' : u.protocol === 'ws:' ? 'http:' : u.protocol;
  return `${protocol}//${u.host}`;
}
