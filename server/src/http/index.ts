// The Origin HTTP API.
export { createOriginApp, type OriginAppOptions } from './app.ts';
export { ApiError, HttpErrorCode, statusOf, errorBody } from './errors.ts';
export { createOriginMetrics, type OriginMetrics, WAL_FSYNC_METRIC, LEADER_CHANGES_METRIC } from './origin-metrics.ts';
