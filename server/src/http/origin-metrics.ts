// The metrics an origin node exposes: request counts and latency per route (ops/s is the
// rate of the counter), Raft term, commit and applied index, leader changes, WAL fsync time.
import { Counter, Histogram, MetricsRegistry } from '../metrics/registry.ts';
import type { OriginNode } from '../node/origin-node.ts';

export interface OriginMetrics {
  readonly registry: MetricsRegistry;
  readonly requests: Counter;
  readonly latency: Histogram;
  /** Incremented by the Raft driver on every leader change it observes (0 for one node). */
  readonly leaderChanges: Counter;
}

export const WAL_FSYNC_METRIC = 'neuroplex_wal_fsync_ms';
/** Cluster members: a write's wait for the Raft loop, and its proposal-to-answer time. */
export const WRITE_QUEUED_METRIC = 'neuroplex_write_queued_ms';
export const WRITE_COMMIT_METRIC = 'neuroplex_write_commit_ms';
export const EVENT_LOOP_LAG_METRIC = 'neuroplex_event_loop_lag_ms';
export const LEADER_CHANGES_METRIC = 'neuroplex_raft_leader_changes_total';
/** Sync sessions welcomed by mode (`neuroplex start` counts them; label mode = log | snapshot | context). */
export const SYNC_WELCOMES_METRIC = 'neuroplex_sync_welcomes_total';

export function createOriginMetrics(node: OriginNode, existing?: MetricsRegistry): OriginMetrics {
  const registry = existing ?? new MetricsRegistry();
  const requests = registry.counter('neuroplex_http_requests_total', 'HTTP requests by route and status.');
  const latency = registry.histogram('neuroplex_http_request_ms', 'HTTP request latency in milliseconds by route.');
  registry.gauge('neuroplex_raft_term', 'Current Raft term.', () => node.cluster().term);
  registry.gauge('neuroplex_raft_commit_index', 'Highest log index known committed.', () => node.cluster().commitIndex);
  registry.gauge('neuroplex_raft_applied_index', 'Highest log index applied to the state machine.', () => node.cluster().appliedIndex);
  registry.gauge('neuroplex_raft_is_leader', '1 when this node is the leader.', () => (node.cluster().leader === node.id ? 1 : 0));
  const leaderChanges = registry.counter(LEADER_CHANGES_METRIC, 'Leader changes this node observed.');
  return { registry, requests, latency, leaderChanges };
}
