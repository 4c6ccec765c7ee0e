// The Worker's bindings and vars (see wrangler.toml and edge/README.md).
import type { DurableObjectNamespace } from './cf-types.ts';

export interface EdgeEnv {
  /** The keyspace replica Durable Objects, one per keyspace and region. */
  REPLICA: DurableObjectNamespace;
  /** Base URL of the origin cluster (http(s)://host:port); unset = no origin. */
  ORIGIN_URL?: string;
  /** Token the edge presents to the origin (secret). */
  ORIGIN_TOKEN?: string;
  /** When set, clients must present this token in their hello (secret). */
  EDGE_TOKEN?: string;
  /** '1' enables GET /v1/debug/replica (tests only; never set it in production). */
  EDGE_DEBUG?: string;
}
