// Strong operations over the origin's HTTP API (linearizable through Raft). They need an
// origin: while the client is offline they fail fast with ConsistencyUnavailableError, and
// a request that cannot reach the origin fails the same way. Note: the strong key-value
// space (/v1/kv) is the origin's register store, separate from the keyspace's CRDTs.
import type { JsonValue } from '../../core/src/codec/json-value.ts';
import { ConsistencyUnavailableError, OriginError } from './errors.ts';

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
    const r = await this.call('GET', key, `consistency=strong&timeout=${timeoutMs}`, undefined, timeoutMs);
    return r === undefined ? undefined : { value: r.value as JsonValue, version: r.version as number };
  }

  async put(key: string, value: JsonValue, timeoutMs: number): Promise<number> {
    const r = await this.call('PUT', key, `timeout=${timeoutMs}`, { value }, timeoutMs);
    return r!.version as number;
  }

  async delete(key: string, timeoutMs: number): Promise<boolean> {
    const r = await this.call('DELETE', key, `timeout=${timeoutMs}`, undefined, timeoutMs);
    return r !== undefined;
  }

  private async call(method: string, key: string, query: string, body: unknown, timeoutMs: number): Promise<Record<string, unknown> | undefined> {
    const base = this.base();
    if (base === undefined) throw new ConsistencyUnavailableError(`strong ${method} of ${JSON.stringify(key)} needs the origin, and the client is offline`);
    const url = `${base}/v1/kv/${encodeURIComponent(key)}?ks=${encodeURIComponent(this.keyspace)}&${query}`;
    let res: Response;
    try {
      res = await this.fetchFn(url, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? null : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs + 1_000),
      });
    } catch (cause) {
      throw new ConsistencyUnavailableError(`strong ${method} of ${JSON.stringify(key)}: the origin did not answer (${(cause as Error).message})`, { cause });
    }
    const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (res.ok) return json;
    const err = (json.error ?? {}) as { code?: string; message?: string };
    if (res.status === 404 && err.code === 'KEY_NOT_FOUND') return undefined;
    if (res.status === 503 || res.status === 504) {
      throw new ConsistencyUnavailableError(`strong ${method} of ${JSON.stringify(key)}: ${err.message ?? res.statusText}`);
    }
    throw new OriginError(res.status, err.code ?? 'UNKNOWN', err.message ?? `HTTP ${res.status}`);
  }
}

/** ws://host:port/v1/sync -> http://host:port (wss -> https). */
export function httpBaseOf(syncUrl: string): string {
  const u = new URL(syncUrl);
  const protocol = u.protocol === 'wss:' ? 'https:' : u.protocol === 'ws:' ? 'http:' : u.protocol;
  return `${protocol}//${u.host}`;
}
