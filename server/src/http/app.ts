// The Origin HTTP API (DESIGN.md, "Origin HTTP API") as a hono app over an OriginNode:
// key-value routes, watch, cluster info and membership, /metrics, /health and /ready. Bad
// input of any kind answers with the typed error JSON; the app never throws past onError.
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { maxCommandBytes } from '../../../core/src/kv/command-codec.ts';
import { DEFAULT_MAX_VALUE_BYTES } from '../../../core/src/kv/limits.ts';
import type { MetricsRegistry } from '../metrics/registry.ts';
import type { OriginNode } from '../node/origin-node.ts';
import { ApiError, HttpErrorCode, errorResponse, toErrorResponse } from './errors.ts';
import { registerKvRoutes } from './kv-routes.ts';
import { jsonObject } from './parse.ts';
import { registerWatchRoute } from './watch-route.ts';
import { createOriginMetrics } from './origin-metrics.ts';

export interface OriginAppOptions {
  readonly node: OriginNode;
  /** Metrics registry to render at /metrics; a fresh one when omitted. */
  readonly metrics?: MetricsRegistry;
  /** Largest value; default 1 MiB. Must match the node's own limit. */
  readonly maxValueBytes?: number;
  /** Buffered watch events per watcher before it is cut off; default 10,000. */
  readonly maxQueuedWatchEvents?: number;
  /** SSE keepalive comment interval; default 15 s. */
  readonly watchKeepaliveMs?: number;
}

/** Route labels for metrics: a fixed set, so a client cannot create unbounded series. */
const ROUTE_PREFIXES = ['/v1/kv/', '/v1/counter/', '/v1/set/', '/v1/batch', '/v1/watch', '/v1/sync', '/v1/cluster/members', '/v1/cluster', '/metrics', '/health', '/ready'];

function routeLabel(method: string, path: string): string {
  for (const p of ROUTE_PREFIXES) if (path.startsWith(p)) return `${method} ${p.endsWith('/') ? p.slice(0, -1) : p}`;
  return 'other';
}

/**
 * Builds the app.
 * @example
 * const app = createOriginApp({ node: await LocalNode.open({ storage: new MemoryKvStorage() }) });
 * serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 7101 });
 */
export function createOriginApp(options: OriginAppOptions): { app: Hono; metrics: MetricsRegistry } {
  const node = options.node;
  const maxValueBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
  // JSON text of a value can be about twice its binary encoding; the exact value limit is
  // enforced on the encoded command (413 VALUE_TOO_LARGE), this only stops huge bodies early.
  const maxBodyBytes = 2 * maxCommandBytes(maxValueBytes);
  const m = createOriginMetrics(node, options.metrics);
  // A change counts when a (new) leader is known; losing one is not a change yet.
  node.onLeaderChange?.((leader) => {
    if (leader !== null) m.leaderChanges.inc();
  });
  const app = new Hono();

  app.onError(toErrorResponse);
  app.notFound((c) => errorResponse(c, HttpErrorCode.RouteNotFound, `no route ${c.req.method} ${c.req.path}`));

  app.use('*', async (c, next) => {
    const t0 = performance.now();
    await next();
    const route = routeLabel(c.req.method, c.req.path);
    m.requests.inc(1, { route, status: String(c.res.status) });
    if (!c.req.path.startsWith('/v1/watch')) m.latency.observe(performance.now() - t0, { route });
  });
  app.use(
    '/v1/*',
    bodyLimit({
      maxSize: maxBodyBytes,
      onError: (c) => errorResponse(c, HttpErrorCode.BodyTooLarge, `request body exceeds ${maxBodyBytes} bytes`),
    }),
  );

  registerKvRoutes(app, node);
  registerWatchRoute(app, node, {
    maxQueuedEvents: options.maxQueuedWatchEvents ?? 10_000,
    keepaliveMs: options.watchKeepaliveMs ?? 15_000,
  });

  // A WebSocket upgrade never reaches the app (the server hands it to the sync endpoint).
  app.get('/v1/sync', (c) => c.json({ error: { code: 'UPGRADE_REQUIRED', message: 'GET /v1/sync is a WebSocket upgrade (the sync protocol)' } }, 426));

  app.get('/v1/cluster', (c) => c.json(node.cluster()));
  app.post('/v1/cluster/members', async (c) => {
    const body = await jsonObject(c);
    if (typeof body.id !== 'string' || body.id.length === 0 || body.id.length > 64) throw new ApiError(HttpErrorCode.BadRequest, '"id" must be a string of 1-64 characters');
    if (typeof body.url !== 'string' || !/^https?:\/\/[^\s]+$/.test(body.url)) throw new ApiError(HttpErrorCode.BadRequest, '"url" must be an http(s) URL');
    if (body.learner !== undefined && typeof body.learner !== 'boolean') throw new ApiError(HttpErrorCode.BadRequest, '"learner" must be a boolean');
    return c.json(await node.addMember({ id: body.id, url: body.url, learner: body.learner === true }));
  });
  app.delete('/v1/cluster/members/:id', async (c) => c.json(await node.removeMember(c.req.param('id'))));

  app.get('/metrics', (c) => c.text(m.registry.render(), 200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' }));
  app.get('/health', (c) => c.json({ status: 'ok', id: node.id }));
  app.get('/ready', (c) => {
    const r = node.readiness();
    return r.ready ? c.json({ ready: true }) : errorResponse(c, 'NOT_READY', r.reason ?? 'not ready');
  });

  return { app, metrics: m.registry };
}
