// The Origin HTTP API through a real @hono/node-server on 127.0.0.1 (ephemeral port), over a
// WAL-backed LocalNode: writes survive a restart, garbage on the socket does not stop it.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { createOriginApp } from '../../server/src/http/app.ts';
import { LocalNode } from '../../server/src/node/local-node.ts';
import { WriteAheadLog } from '../../server/src/wal/wal.ts';
import { MemoryKvStorage } from '../../core/src/testing/memory-kv-storage.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

async function start(walDir: string): Promise<{ base: string; node: LocalNode; stop: () => Promise<void> }> {
  const wal = await WriteAheadLog.open(walDir);
  // Memory storage: everything is rebuilt from the WAL on restart.
  const node = await LocalNode.open({ storage: new MemoryKvStorage(), wal });
  const { app } = createOriginApp({ node });
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await node.close();
  };
  cleanups.push(stop);
  return { base: `http://127.0.0.1:${port}`, node, stop };
}

function rawRequest(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let out = '';
    sock.on('data', (d) => (out += d.toString()));
    sock.on('close', () => resolve(out));
    sock.on('error', reject);
    sock.setTimeout(2000, () => sock.destroy());
    sock.write(bytes);
  });
}

describe('origin HTTP server on loopback', () => {
  it('serves the API, survives garbage, and keeps acknowledged writes across a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'npx-http-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const first = await start(dir);
    const writes = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        fetch(`${first.base}/v1/kv/k${i}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ value: i }) }).then((r) => r.json()),
      ),
    );
    expect(new Set(writes.map((w: any) => w.version)).size).toBe(20);
    const port = Number(new URL(first.base).port);
    const garbage = await rawRequest(port, 'GARBAGE \x00\x01\x02 nonsense\r\n\r\n');
    expect(garbage).toMatch(/^HTTP\/1\.1 400/);
    const bad = await fetch(`${first.base}/v1/kv/x`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"value":' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'BAD_JSON' } });
    const huge = await fetch(`${first.base}/v1/kv/x`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ value: 'x'.repeat(12 * 1024 * 1024) }) });
    expect(huge.status).toBe(413);
    expect(await huge.json()).toMatchObject({ error: { code: 'BODY_TOO_LARGE' } });
    const big = await fetch(`${first.base}/v1/kv/x`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ value: 'x'.repeat(1024 * 1024 + 10) }) });
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({ error: { code: 'VALUE_TOO_LARGE' } });
    const ok = await fetch(`${first.base}/v1/kv/k3`);
    expect(await ok.json()).toMatchObject({ value: 3 });
    await first.stop();

    const second = await start(dir);
    expect(second.node.appliedIndex).toBe(20);
    const back = await fetch(`${second.base}/v1/kv/k19`);
    expect(await back.json()).toMatchObject({ key: 'k19', value: 19 });
    const next = await fetch(`${second.base}/v1/kv/k0`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"value":"again"}' });
    expect(await next.json()).toEqual({ version: 21 });
  });
});
