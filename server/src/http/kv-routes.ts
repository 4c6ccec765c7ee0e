// Key-value routes of the Origin HTTP API: get, put (compare-and-set with ifVersion), delete,
// counter, set and atomic batch. Handlers parse, propose or read through the OriginNode, and
// map the state machine's result to a status.
import type { Context, Hono } from 'hono';
import type { BatchOp, BatchOpResult, KvCommand, KvResult } from '../../../core/src/kv/commands.ts';
import type { OriginNode } from '../node/origin-node.ts';
import { Consistency } from '../node/origin-node.ts';
import { ApiError, HttpErrorCode } from './errors.ts';
import { intQuery, jsonObject, keyFromPath, keyspace, optionalVersion, requiredValue, session, timeoutMs } from './parse.ts';

const CONSISTENCIES = new Set<string>(Object.values(Consistency));

/** Throws the ApiError for a failed result; returns the ok result. */
function okOrThrow(result: KvResult): Extract<KvResult, { status: 'ok' }> {
  switch (result.status) {
    case 'ok':
      return result;
    case 'not_found':
      throw new ApiError(HttpErrorCode.KeyNotFound, `key ${JSON.stringify(result.key)} does not exist`, { key: result.key });
    case 'conflict':
      throw new ApiError(HttpErrorCode.PreconditionFailed, `ifVersion does not match key ${JSON.stringify(result.key)} (at version ${result.version})`, {
        key: result.key,
        version: result.version,
      });
    case 'type_mismatch':
      throw new ApiError('TYPE_MISMATCH', `key ${JSON.stringify(result.key)} holds a ${result.actual}`, { key: result.key, type: result.actual });
  }
}

function withSession<T extends KvCommand>(c: Context, cmd: T): T {
  const s = session(c);
  return s === undefined ? cmd : { ...cmd, session: s };
}

function opResultJson(r: BatchOpResult): Record<string, unknown> {
  return { ...r };
}

function parseBatchOp(raw: unknown, i: number): BatchOp {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ApiError(HttpErrorCode.BadRequest, `ops[${i}] must be an object`);
  const o = raw as Record<string, unknown>;
  if (typeof o.key !== 'string') throw new ApiError(HttpErrorCode.BadRequest, `ops[${i}].key must be a string`);
  const ifVersion = optionalVersion(o.ifVersion, `ops[${i}].ifVersion`);
  const extra = ifVersion === undefined ? {} : { ifVersion };
  switch (o.op) {
    case 'put':
      return { op: 'put', key: o.key, value: requiredValue(o, 'value'), ...extra };
    case 'delete':
      return { op: 'delete', key: o.key, ...extra };
    case 'get':
      return { op: 'get', key: o.key, ...extra };
    default:
      throw new ApiError(HttpErrorCode.BadRequest, `ops[${i}].op must be "put", "delete" or "get"`);
  }
}

export function registerKvRoutes(app: Hono, node: OriginNode): void {
  app.get('/v1/kv/*', async (c) => {
    const key = keyFromPath(c, '/v1/kv/');
    const ks = keyspace(c);
    const consistency = c.req.query('consistency') ?? 'strong';
    if (!CONSISTENCIES.has(consistency)) throw new ApiError(HttpErrorCode.BadRequest, 'consistency must be strong, causal or eventual');
    const minVersion = intQuery(c, 'minVersion');
    if (key.length === 0) throw new ApiError('KEY_INVALID', 'a key is a non-empty string');
    const entry = await node.read(ks, key, {
      consistency: consistency as Consistency,
      timeoutMs: timeoutMs(c),
      ...(minVersion === undefined ? {} : { minVersion }),
    });
    if (entry === undefined) throw new ApiError(HttpErrorCode.KeyNotFound, `key ${JSON.stringify(key)} does not exist`, { key });
    return c.json({ key, type: entry.type, value: entry.value, version: entry.version });
  });

  app.put('/v1/kv/*', async (c) => {
    const key = keyFromPath(c, '/v1/kv/');
    const ks = keyspace(c);
    const body = await jsonObject(c);
    const value = requiredValue(body, 'value');
    const ifVersion = optionalVersion(body.ifVersion, 'ifVersion');
    const cmd = withSession(c, { type: 'put', ks, key, value, ...(ifVersion === undefined ? {} : { ifVersion }) } as const);
    const r = okOrThrow(await node.propose(cmd, { timeoutMs: timeoutMs(c) }));
    return c.json({ version: r.version });
  });

  app.delete('/v1/kv/*', async (c) => {
    const key = keyFromPath(c, '/v1/kv/');
    const ks = keyspace(c);
    const ifVersion = intQuery(c, 'ifVersion');
    const cmd = withSession(c, { type: 'delete', ks, key, ...(ifVersion === undefined ? {} : { ifVersion }) } as const);
    const r = okOrThrow(await node.propose(cmd, { timeoutMs: timeoutMs(c) }));
    return c.json({ version: r.version });
  });

  app.post('/v1/counter/*', async (c) => {
    const key = keyFromPath(c, '/v1/counter/');
    const ks = keyspace(c);
    const body = await jsonObject(c);
    const by = body.by ?? 1;
    if (typeof by !== 'number' || !Number.isFinite(by)) throw new ApiError(HttpErrorCode.BadRequest, '"by" must be a finite number');
    const r = okOrThrow(await node.propose(withSession(c, { type: 'counter', ks, key, by } as const), { timeoutMs: timeoutMs(c) }));
    return c.json({ value: r.value, version: r.version });
  });

  app.post('/v1/set/*', async (c) => {
    const key = keyFromPath(c, '/v1/set/');
    const ks = keyspace(c);
    const body = await jsonObject(c);
    const add = body.add ?? [];
    const remove = body.remove ?? [];
    if (!Array.isArray(add) || !Array.isArray(remove)) throw new ApiError(HttpErrorCode.BadRequest, '"add" and "remove" must be arrays');
    const r = okOrThrow(await node.propose(withSession(c, { type: 'set', ks, key, add, remove } as const), { timeoutMs: timeoutMs(c) }));
    return c.json({ values: r.values, version: r.version });
  });

  app.post('/v1/batch', async (c) => {
    const ks = keyspace(c);
    const body = await jsonObject(c);
    if (!Array.isArray(body.ops)) throw new ApiError(HttpErrorCode.BadRequest, '"ops" must be an array');
    const ops = body.ops.map(parseBatchOp);
    const r = okOrThrow(await node.propose(withSession(c, { type: 'batch', ks, ops } as const), { timeoutMs: timeoutMs(c) }));
    return c.json({ version: r.version, results: (r.results ?? []).map(opResultJson) });
  });
}
