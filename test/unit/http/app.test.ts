import { describe, expect, it } from 'vitest';
import { createOriginApp } from '../../../server/src/http/app.ts';
import { LocalNode } from '../../../server/src/node/local-node.ts';
import { MemoryKvStorage } from '../../../core/src/testing/memory-kv-storage.ts';

async function setup(maxValueBytes = 4096) {
  const node = await LocalNode.open({ storage: new MemoryKvStorage(), maxValueBytes, id: 'n1', url: 'http://127.0.0.1:1' });
  const { app } = createOriginApp({ node, maxValueBytes, watchKeepaliveMs: 50 });
  const req = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const init: RequestInit = { method, headers: { 'content-type': 'application/json', ...headers } };
    if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
    const res = await app.request(path, init);
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text, headers: res.headers };
  };
  return { node, app, req };
}

function expectError(r: { status: number; json: any }, status: number, code: string) {
  expect({ status: r.status, code: r.json?.error?.code }).toEqual({ status, code });
  expect(typeof r.json.error.message).toBe('string');
}

describe('Origin HTTP API over LocalNode', () => {
  it('put then get a key with ":" and "/" in it, URL-encoded or not', async () => {
    const { req } = await setup();
    const put = await req('PUT', `/v1/kv/${encodeURIComponent('user:1/profile')}`, { value: { name: 'Ada' } });
    expect(put).toMatchObject({ status: 200, json: { version: 1 } });
    const get = await req('GET', '/v1/kv/user:1/profile');
    expect(get).toMatchObject({ status: 200, json: { key: 'user:1/profile', type: 'register', value: { name: 'Ada' }, version: 1 } });
    const utf = await req('PUT', `/v1/kv/${encodeURIComponent('clé ✓')}?ks=other`, { value: 1 });
    expect(utf.status).toBe(200);
    expect((await req('GET', `/v1/kv/${encodeURIComponent('clé ✓')}?ks=other&consistency=eventual`)).json.value).toBe(1);
    expectError(await req('GET', `/v1/kv/${encodeURIComponent('clé ✓')}`), 404, 'KEY_NOT_FOUND');
  });

  it('compare-and-set: ifVersion 0 creates only once; a stale version is 409 and changes nothing', async () => {
    const { req } = await setup();
    expect((await req('PUT', '/v1/kv/k', { value: 'a', ifVersion: 0 })).json).toEqual({ version: 1 });
    const dup = await req('PUT', '/v1/kv/k', { value: 'b', ifVersion: 0 });
    expectError(dup, 409, 'PRECONDITION_FAILED');
    expect(dup.json.error.key).toBe('k');
    expect((await req('PUT', '/v1/kv/k', { value: 'c', ifVersion: 1 })).json).toEqual({ version: 3 });
    expectError(await req('PUT', '/v1/kv/k', { value: 'd', ifVersion: 1 }), 409, 'PRECONDITION_FAILED');
    expect((await req('GET', '/v1/kv/k')).json).toMatchObject({ value: 'c', version: 3 });
  });

  it('delete: 404 when missing, 409 on a wrong ifVersion, 200 with the version', async () => {
    const { req } = await setup();
    expectError(await req('DELETE', '/v1/kv/x'), 404, 'KEY_NOT_FOUND');
    await req('PUT', '/v1/kv/x', { value: 1 });
    expectError(await req('DELETE', '/v1/kv/x?ifVersion=9'), 409, 'PRECONDITION_FAILED');
    expect(await req('DELETE', '/v1/kv/x?ifVersion=2')).toMatchObject({ status: 200, json: { version: 4 } });
    expectError(await req('GET', '/v1/kv/x'), 404, 'KEY_NOT_FOUND');
  });

  it('counters and sets; the wrong type is 409', async () => {
    const { req } = await setup();
    expect((await req('POST', '/v1/counter/views', { by: 2 })).json).toEqual({ value: 2, version: 1 });
    expect((await req('POST', '/v1/counter/views', { by: 3 })).json).toEqual({ value: 5, version: 2 });
    expect((await req('POST', '/v1/set/tags', { add: ['b', 'a'] })).json).toEqual({ values: ['a', 'b'], version: 3 });
    expect((await req('POST', '/v1/set/tags', { remove: ['a'] })).json).toEqual({ values: ['b'], version: 4 });
    expect((await req('GET', '/v1/kv/views')).json).toMatchObject({ type: 'counter', value: 5 });
    expect((await req('GET', '/v1/kv/tags')).json).toMatchObject({ type: 'set', value: ['b'] });
    expectError(await req('POST', '/v1/counter/tags', { by: 1 }), 409, 'TYPE_MISMATCH');
  });

  it('batch is all or nothing', async () => {
    const { req } = await setup();
    await req('PUT', '/v1/kv/a', { value: 1 });
    const ok = await req('POST', '/v1/batch', {
      ops: [
        { op: 'put', key: 'a', value: 2, ifVersion: 1 },
        { op: 'get', key: 'a' },
        { op: 'put', key: 'b', value: 3 },
      ],
    });
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual({
      version: 2,
      results: [
        { op: 'put', key: 'a', version: 2 },
        { op: 'get', key: 'a', found: true, type: 'register', value: 2, version: 2 },
        { op: 'put', key: 'b', version: 2 },
      ],
    });
    const bad = await req('POST', '/v1/batch', { ops: [{ op: 'put', key: 'c', value: 1 }, { op: 'delete', key: 'b', ifVersion: 1 }] });
    expectError(bad, 409, 'PRECONDITION_FAILED');
    expect(bad.json.error.key).toBe('b');
    expectError(await req('GET', '/v1/kv/c'), 404, 'KEY_NOT_FOUND');
  });

  it('bad input gives typed 400/413 errors and the app keeps serving', async () => {
    const { req } = await setup(256);
    expectError(await req('PUT', '/v1/kv/k', '{"value":'), 400, 'BAD_JSON');
    expectError(await req('PUT', '/v1/kv/k', '[1,2]'), 400, 'BAD_JSON');
    expectError(await req('PUT', '/v1/kv/k', ''), 400, 'BAD_JSON');
    expectError(await req('PUT', '/v1/kv/k', { val: 1 }), 400, 'BAD_REQUEST');
    expectError(await req('PUT', '/v1/kv/k', { value: 1, ifVersion: 'x' }), 400, 'BAD_REQUEST');
    expectError(await req('PUT', '/v1/kv/k', { value: 1, ifVersion: -1 }), 400, 'BAD_REQUEST');
    expectError(await req('POST', '/v1/counter/k', { by: '1' }), 400, 'BAD_REQUEST');
    expectError(await req('POST', '/v1/set/k', { add: 'x' }), 400, 'BAD_REQUEST');
    expectError(await req('POST', '/v1/batch', { ops: {} }), 400, 'BAD_REQUEST');
    expectError(await req('POST', '/v1/batch', { ops: [] }), 400, 'COMMAND_INVALID');
    expectError(await req('POST', '/v1/batch', { ops: [{ op: 'zap', key: 'k' }] }), 400, 'BAD_REQUEST');
    expectError(await req('GET', '/v1/kv/k?consistency=weird'), 400, 'BAD_REQUEST');
    expectError(await req('GET', '/v1/kv/k?minVersion=-3'), 400, 'BAD_REQUEST');
    expectError(await req('GET', '/v1/kv/k?timeout=0'), 400, 'BAD_REQUEST');
    expectError(await req('GET', '/v1/kv/k?ks=no%20spaces'), 400, 'BAD_REQUEST');
    expectError(await req('GET', '/v1/kv/%E0%A4%A'), 400, 'BAD_REQUEST');
    expectError(await req('GET', '/v1/kv/'), 400, 'KEY_INVALID');
    expectError(await req('PUT', '/v1/kv/', { value: 1 }), 400, 'KEY_INVALID');
    expectError(await req('PUT', `/v1/kv/${'k'.repeat(1025)}`, { value: 1 }), 413, 'KEY_TOO_LARGE');
    expectError(await req('PUT', '/v1/kv/k', { value: 'x'.repeat(300) }), 413, 'VALUE_TOO_LARGE');
    expectError(await req('PUT', '/v1/kv/k', { value: 'x'.repeat(200_000) }), 413, 'BODY_TOO_LARGE');
    expectError(await req('PUT', '/v1/kv/k', { value: 1 }, { 'Idempotency-Key': 'no-seq' }), 400, 'BAD_REQUEST');
    expectError(await req('GET', '/v1/nope'), 404, 'ROUTE_NOT_FOUND');
    expectError(await req('PATCH', '/v1/kv/k', { value: 1 }), 404, 'ROUTE_NOT_FOUND');
    // Nothing above was applied, and the app still serves.
    expect((await req('PUT', `/v1/kv/${'k'.repeat(1024)}`, { value: 'x'.repeat(200) })).json).toEqual({ version: 1 });
  });

  it('Idempotency-Key: a retried write applies once and gets the first answer', async () => {
    const { req } = await setup();
    const h = { 'Idempotency-Key': 'client-7/42' };
    const first = await req('POST', '/v1/counter/n', { by: 1 }, h);
    const again = await req('POST', '/v1/counter/n', { by: 1 }, h);
    expect(again.json).toEqual(first.json);
    expect((await req('GET', '/v1/kv/n')).json.value).toBe(1);
    const other = await req('POST', '/v1/counter/n', { by: 1 }, { 'Idempotency-Key': 'client-7/43' });
    expect(other.json.value).toBe(2);
  });

  it('causal reads wait for minVersion and time out with 504', async () => {
    const { req, app } = await setup();
    await req('PUT', '/v1/kv/k', { value: 1 });
    expect((await req('GET', '/v1/kv/k?consistency=causal&minVersion=1')).json.version).toBe(1);
    expectError(await req('GET', '/v1/kv/k?consistency=causal&minVersion=5&timeout=30'), 504, 'TIMEOUT');
    const waiting = app.request('/v1/kv/k?consistency=causal&minVersion=2&timeout=5000');
    await req('PUT', '/v1/kv/k', { value: 2 });
    expect(await (await waiting).json()).toMatchObject({ value: 2, version: 2 });
  });

  it('cluster, health, ready, metrics, membership and sync routes', async () => {
    const { req, node } = await setup();
    await req('PUT', '/v1/kv/k', { value: 1 });
    expect((await req('GET', '/v1/cluster')).json).toEqual({
      id: 'n1',
      leader: 'n1',
      term: 1,
      commitIndex: 1,
      appliedIndex: 1,
      members: [{ id: 'n1', url: 'http://127.0.0.1:1', learner: false }],
    });
    expect((await req('GET', '/health')).json).toMatchObject({ status: 'ok' });
    expect((await req('GET', '/ready')).status).toBe(200);
    const metrics = await req('GET', '/metrics');
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(metrics.text).toContain('neuroplex_http_requests_total{route="PUT /v1/kv",status="200"} 1');
    expect(metrics.text).toContain('neuroplex_raft_applied_index 1');
    expect(metrics.text).toMatch(/neuroplex_http_request_ms_bucket\{route="PUT \/v1\/kv",le="\+Inf"\} 1/);
    expectError(await req('POST', '/v1/cluster/members', { id: 'n2', url: 'http://127.0.0.1:2' }), 503, 'MEMBERSHIP_UNAVAILABLE');
    expectError(await req('POST', '/v1/cluster/members', { id: 7 }), 400, 'BAD_REQUEST');
    expectError(await req('DELETE', '/v1/cluster/members/n2'), 503, 'MEMBERSHIP_UNAVAILABLE');
    expectError(await req('GET', '/v1/sync'), 426, 'UPGRADE_REQUIRED');
    node.stop('maintenance');
    expectError(await req('GET', '/ready'), 503, 'NOT_READY');
    expectError(await req('PUT', '/v1/kv/k', { value: 2 }), 503, 'NODE_STOPPED');
  });

  it('watch streams matching changes as server-sent events from fromVersion', async () => {
    const { req, app } = await setup();
    await req('PUT', '/v1/kv/user:1', { value: 'a' });
    await req('PUT', '/v1/kv/other', { value: 'x' });
    await req('PUT', '/v1/kv/user:2', { value: 'b' });
    const controller = new AbortController();
    const res = await app.request('/v1/watch?prefix=user:&fromVersion=2', { signal: controller.signal });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    const events: any[] = [];
    let buffered = '';
    const decoder = new TextDecoder();
    const next = async () => {
      // Bounded: each read returns a chunk or ends the stream.
      for (let i = 0; i < 50 && !/data: .*\n/.test(buffered); i++) {
        const { value, done } = await reader.read();
        if (done) break;
        buffered += decoder.decode(value);
      }
      const m = /data: (.*)\n/.exec(buffered)!;
      buffered = buffered.slice(m.index + m[0].length);
      return JSON.parse(m[1]!);
    };
    events.push(await next());
    await req('DELETE', '/v1/kv/user:1');
    await req('PUT', '/v1/kv/nope', { value: 1 });
    events.push(await next());
    expect(events).toEqual([
      { key: 'user:2', value: 'b', version: 3, deleted: false },
      { key: 'user:1', value: null, version: 4, deleted: true },
    ]);
    await reader.cancel();
    controller.abort();
  });

  it('watch: a watcher too far behind gets an error event; a stopped node answers 503 JSON', async () => {
    const node = await LocalNode.open({ storage: new MemoryKvStorage() });
    const { app } = createOriginApp({ node, maxQueuedWatchEvents: 2, watchKeepaliveMs: 50 });
    for (let i = 0; i < 5; i++) await node.propose({ type: 'put', ks: 'default', key: `w${i}`, value: i }, { timeoutMs: 1000 });
    const res = await app.request('/v1/watch?prefix=w&fromVersion=1');
    const text = await res.text(); // the server ends the stream after the error event
    expect(text).toContain('event: error');
    expect(text).toContain('WATCH_OVERFLOW');
    expect(text.match(/^data: \{"key"/gm)?.length).toBe(2);
    node.stop('gone');
    const stopped = await app.request('/v1/watch');
    expect(stopped.status).toBe(503);
    expect(await stopped.json()).toMatchObject({ error: { code: 'NODE_STOPPED' } });
  });
});
