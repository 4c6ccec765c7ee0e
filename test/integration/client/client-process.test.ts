// `neuroplex start` as a real process serves GET /v1/sync: a NeuroplexClient syncs through
// it (token from --sync-token), its change survives a restart of the node on the same data
// directory, and SIGTERM with a sync client connected still shuts down cleanly.
import { afterEach, describe, expect, it } from 'vitest';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { WebSocket } from 'ws';
import { NeuroplexClient } from '../../../browser/src/client.ts';
import type { WebSocketConstructor } from '../../../browser/src/transport.ts';
import { waitFor } from '../../support/sync-origin.ts';

const BIN = resolve('server/bin/neuroplex.js');
const WS = WebSocket as unknown as WebSocketConstructor;
const children: ChildProcess[] = [];
const clients: NeuroplexClient[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function startNode(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [BIN, 'start', '--id', 'n1', '--listen', '127.0.0.1:0', '--data', dataDir, '--sync-token', 'tok'], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const base = await new Promise<string>((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`node did not start: ${out}`)), 60_000);
    child.stdout!.on('data', () => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolvePromise(m[1]!);
      }
    });
    child.once('exit', () => reject(new Error(`node exited: ${out}`)));
  });
  return { child, url: `${base.replace('http://', 'ws://')}/v1/sync` };
}

function stopNode(child: ChildProcess): Promise<number | null> {
  child.kill('SIGTERM');
  return new Promise((r) => child.once('exit', (code) => r(code)));
}

describe('a neuroplex start process', () => {
  it('serves /v1/sync and keeps committed changes across a restart', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'npx-sync-'));
    dirs.push(dir);
    const first = await startNode(dir);
    const a = await NeuroplexClient.connect({ url: first.url, keyspace: 'app', token: 'tok', WebSocket: WS, backoff: { initialMs: 20, maxMs: 200 } });
    clients.push(a);
    await a.set('greeting', 'hello');
    await a.counter.increment('n', 4);
    await a.flushed();
    expect(await stopNode(first.child)).toBe(0);
    const second = await startNode(dir);
    const b = await NeuroplexClient.connect({ url: second.url, keyspace: 'app', token: 'tok', WebSocket: WS });
    clients.push(b);
    await waitFor(() => b.status === 'synced', 'b synced');
    expect(await b.get('greeting')).toBe('hello');
    expect(await b.counter.value('n')).toBe(4);
    expect(await stopNode(second.child)).toBe(0);
  });
});
