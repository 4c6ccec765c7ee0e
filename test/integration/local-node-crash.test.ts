// Durable before acknowledged, with a real process: a single node killed with SIGKILL under
// write load comes back with every write it acknowledged.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const BIN = resolve('server/bin/neuroplex.js');
const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGKILL');
      await new Promise((r) => c.once('exit', r));
    }
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function startNode(dataDir: string): Promise<{ child: ChildProcess; endpoint: string }> {
  const child = spawn(process.execPath, [BIN, 'start', '--listen', '127.0.0.1:0', '--data', dataDir, '--snapshot-every', '50'], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stderr!.on('data', (d) => (out += d));
  const endpoint = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`node did not start: ${out}`)), 20_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        res(m[1]!);
      }
    });
    child.once('exit', () => rej(new Error(`node exited: ${out}`)));
  });
  return { child, endpoint };
}

describe('single node crash', () => {
  it('keeps every acknowledged write across kill -9 (with snapshots and WAL compaction on the way)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'npx-crash-'));
    dirs.push(dir);
    const first = await startNode(dir);
    const acked = new Map<string, number>();
    let next = 0;
    let killed = false;
    const writer = async () => {
      // Bounded: stops at the kill or after 2,000 writes in all.
      while (!killed && next < 2000) {
        const i = next++;
        try {
          const res = await fetch(`${first.endpoint}/v1/kv/k${i}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ value: i }) });
          if (res.status === 200) acked.set(`k${i}`, ((await res.json()) as { version: number }).version);
        } catch {
          // The process died mid-request: not acknowledged.
        }
      }
    };
    const writers = Array.from({ length: 16 }, writer);
    // Kill mid-load once enough writes are acknowledged (several snapshots in), or after 20 s.
    for (let waited = 0; acked.size < 200 && waited < 20_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
    // Listen for the exit before anything else is awaited, or the event can pass unseen.
    const exited = new Promise((r) => first.child.once('exit', r));
    first.child.kill('SIGKILL');
    killed = true;
    await Promise.all(writers);
    await exited;
    expect(acked.size).toBeGreaterThanOrEqual(200);

    const second = await startNode(dir);
    const missing: string[] = [];
    const keys = [...acked.keys()];
    for (let i = 0; i < keys.length; i += 32) {
      await Promise.all(
        keys.slice(i, i + 32).map(async (k) => {
          const res = await fetch(`${second.endpoint}/v1/kv/${k}`);
          const body = (await res.json()) as { value?: number; version?: number };
          if (res.status !== 200 || body.version !== acked.get(k) || body.value !== Number(k.slice(1))) missing.push(k);
        }),
      );
    }
    expect(missing).toEqual([]);
  }, 90_000);
});
