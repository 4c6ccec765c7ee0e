// The edge Worker's routes: GET /health; GET /v1/sync upgrades to a WebSocket served by the Durable
// Object of (keyspace, region); /v1/kv/* (strong operations) is forwarded to the origin and
// fails fast with 503 CONSISTENCY_UNAVAILABLE when the origin is unset or unreachable.
// Every error is a JSON body { error: { code, message } }.
import { Hono } from 'hono';
import type { EdgeEnv } from './env.ts';
import { EdgeErrorCode, errorBody } from './errors.ts';
import { originUrls } from './origin-urls.ts';
import { DEBUG_CRASH_BEFORE_WRITE, DEBUG_HEADER, KEYSPACE_HEADER } from './replica-object.ts';

/** Keyspace and region names: 1-128 of letters, digits, '.', '_', '-'. */
const NAME = /^[A-Za-z0-9._-]{1,128}$/;
/** How long a strong operation waits for the origin before answering 503. */
export const ORIGIN_TIMEOUT_MS = 5_000;

type RequestWithCf = Request & { cf?: { colo?: string } };

export const app = new Hono<{ Bindings: EdgeEnv }>();

app.get('/health', (c) => c.json({ ok: true, service: 'neuroplex-edge', origin: originUrls(c.env.ORIGIN_URL).length > 0 }));

app.all('/v1/sync', async (c) => {
  if (c.req.method !== 'GET') return c.json(errorBody(EdgeErrorCode.BadRequest, '/v1/sync takes GET with a WebSocket upgrade'), 405);
  if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') {
    return c.json(errorBody(EdgeErrorCode.UpgradeRequired, 'GET /v1/sync needs a WebSocket upgrade'), 426);
  }
  const keyspace = c.req.query('ks') ?? 'default';
  const region = c.req.query('region') ?? (c.req.raw as RequestWithCf).cf?.colo ?? 'local';
  if (!NAME.test(keyspace)) return c.json(errorBody(EdgeErrorCode.BadRequest, `bad keyspace name ${JSON.stringify(keyspace.slice(0, 40))}: 1-128 of [A-Za-z0-9._-]`), 400);
  if (!NAME.test(region)) return c.json(errorBody(EdgeErrorCode.BadRequest, `bad region ${JSON.stringify(region.slice(0, 40))}: 1-128 of [A-Za-z0-9._-]`), 400);
  const stub = c.env.REPLICA.get(c.env.REPLICA.idFromName(`${keyspace}:${region}`));
  const headers = new Headers(c.req.raw.headers);
  headers.set(KEYSPACE_HEADER, keyspace);
  headers.delete(DEBUG_HEADER);
  return stub.fetch(new Request(c.req.raw.url, { method: 'GET', headers }));
});

// Tests only (EDGE_DEBUG=1): the replica object's instance id and socket counts, so a test
// can tell that workerd evicted and rebuilt it (hibernation); and a fault: the next change
// relayed before its write is lost with the instance's memory, as in a crash. Otherwise
// unknown routes.
app.get('/v1/debug/replica', (c) => debugReplica(c.env, c.req.raw, '1'));
app.post('/v1/debug/replica/crash-before-write', (c) => debugReplica(c.env, c.req.raw, DEBUG_CRASH_BEFORE_WRITE));

async function debugReplica(env: EdgeEnv, req: Request, what: string): Promise<Response> {
  const url = new URL(req.url);
  const notFound = (): Response => Response.json(errorBody(EdgeErrorCode.NotFound, `no route ${req.method} ${url.pathname}`), { status: 404 });
  if (env.EDGE_DEBUG !== '1') return notFound();
  const keyspace = url.searchParams.get('ks') ?? 'default';
  const region = url.searchParams.get('region') ?? 'local';
  if (!NAME.test(keyspace) || !NAME.test(region)) return Response.json(errorBody(EdgeErrorCode.BadRequest, 'bad keyspace or region name'), { status: 400 });
  const stub = env.REPLICA.get(env.REPLICA.idFromName(`${keyspace}:${region}`));
  return stub.fetch(new Request(req.url, { method: 'GET', headers: { [KEYSPACE_HEADER]: keyspace, [DEBUG_HEADER]: what } }));
}

app.all('/v1/kv/*', async (c) => {
  const origins = originUrls(c.env.ORIGIN_URL);
  if (origins.length === 0) {
    return c.json(errorBody(EdgeErrorCode.ConsistencyUnavailable, 'no origin configured (ORIGIN_URL): strong operations are unavailable'), 503);
  }
  const url = new URL(c.req.raw.url);
  const headers = new Headers(c.req.raw.headers);
  headers.delete('host');
  if (c.env.ORIGIN_TOKEN !== undefined && c.env.ORIGIN_TOKEN !== '' && !headers.has('authorization')) headers.set('authorization', `Bearer ${c.env.ORIGIN_TOKEN}`);
  const read = c.req.method === 'GET' || c.req.method === 'HEAD';
  // Tried at each origin node in turn until one answers. A write that failed at one node may
  // still have been applied there, so it travels under an Idempotency-Key: the origin applies
  // a key once and answers a retry with the first answer. One is added if the client sent none.
  if (!read && !headers.has('idempotency-key')) headers.set('idempotency-key', `edge-${crypto.randomUUID()}/1`);
  const body = read ? undefined : await c.req.raw.arrayBuffer();
  const failures: string[] = [];
  for (const origin of origins) {
    try {
      const resp = await fetch(`${origin}${url.pathname}${url.search}`, { method: c.req.method, headers, body, signal: AbortSignal.timeout(ORIGIN_TIMEOUT_MS) });
      return new Response(resp.body, { status: resp.status, headers: resp.headers });
    } catch (e) {
      failures.push(`${origin}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return c.json(errorBody(EdgeErrorCode.ConsistencyUnavailable, `origin unreachable (${failures.join('; ')})`), 503);
});

app.notFound((c) => c.json(errorBody(EdgeErrorCode.NotFound, `no route ${c.req.method} ${new URL(c.req.url).pathname}`), 404));

app.onError((e, c) => c.json(errorBody(EdgeErrorCode.Internal, e.message), 500));

