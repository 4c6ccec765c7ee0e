// The neuroplex CLI as real processes against a real single node on 127.0.0.1.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

function run(args: string[], timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/** Starts a node on an ephemeral port and waits for its "listening on" line. */
async function startNode(dataDir: string): Promise<{ child: ChildProcess; endpoint: string; output: () => string }> {
  const child = spawn(process.execPath, [BIN, 'start', '--id', 'n1', '--listen', '127.0.0.1:0', '--data', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const endpoint = await new Promise<string>((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`node did not start: ${out}`)), 60_000);
    const check = () => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolvePromise(m[1]!);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', () => reject(new Error(`node exited: ${out}`)));
  });
  return { child, endpoint, output: () => out };
}

async function stop(child: ChildProcess): Promise<number | null> {
  child.kill('SIGTERM');
  return new Promise((r) => child.once('exit', (code) => r(code)));
}

const noStack = (s: string) => expect(s).not.toMatch(/\n\s+at /);

describe('neuroplex CLI', () => {
  it('as a real process: bad flags and unusable data directories give a message and exit code, no stack trace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'npx-cli-'));
    dirs.push(dir);
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, 'x');
    const [bogus, notDir, help] = await Promise.all([
      run(['start', '--bogus']),
      run(['start', '--data', file, '--listen', '127.0.0.1:0']),
      run(['start', '--help']),
    ]);
    expect(bogus!.code).toBe(2);
    expect(bogus!.stderr).toMatch(/Unknown option '--bogus'/);
    expect(notDir!.code).toBe(1);
    expect(notDir!.stderr).toContain('is not a directory');
    for (const r of [bogus!, notDir!]) noStack(r.stderr);
    expect(help!.code).toBe(0);
    expect(help!.stdout).toContain('Usage: neuroplex start');
  }, 120_000);

  it('kv get/put/cas/del/watch and status work against a running node, and data survives a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'npx-cli-'));
    dirs.push(dir);
    const node = await startNode(dir);
    const E = ['--endpoints', node.endpoint];
    const put = await run(['kv', 'put', 'user:1', '{"name":"Ada"}', ...E]);
    expect(put).toMatchObject({ code: 0, stdout: 'OK version 1\n' });
    const [get, casFail, busy] = await Promise.all([
      run(['kv', 'get', 'user:1', ...E]),
      run(['kv', 'cas', 'user:1', '0', 'x', ...E]),
      run(['start', '--data', dir, '--listen', '127.0.0.1:0']),
    ]);
    expect(get).toMatchObject({ code: 0, stdout: '{"name":"Ada"}\n' });
    expect(casFail.code).toBe(1);
    expect(casFail.stderr).toContain('PRECONDITION_FAILED');
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain('is in use by process');
    const cas = await run(['kv', 'cas', 'user:1', '1', 'plain text', ...E]);
    expect(cas).toMatchObject({ code: 0, stdout: 'OK version 3\n' });
    const [watch, status, del] = await Promise.all([
      run(['kv', 'watch', 'user:', '--from-version', '1', '--count', '2', ...E]),
      run(['status', ...E]),
      run(['kv', 'del', 'user:2', ...E]),
    ]);
    expect(watch.code).toBe(0);
    expect(watch.stdout.trim().split('\n').map((l) => JSON.parse(l))).toEqual([
      { key: 'user:1', value: { name: 'Ada' }, version: 1, deleted: false },
      { key: 'user:1', value: 'plain text', version: 3, deleted: false },
    ]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/id=n1 leader=n1 term=1 commit=\d+ applied=\d+ lag=0/);
    expect(status.stdout).toContain(`member n1 ${node.endpoint} (leader)`);
    expect(del.code).toBe(1);
    expect(del.stderr).toContain('KEY_NOT_FOUND');
    expect(await stop(node.child)).toBe(0);

    const again = await startNode(dir);
    const back = await run(['kv', 'get', 'user:1', '--json', '--endpoints', again.endpoint]);
    expect(JSON.parse(back.stdout)).toEqual({ key: 'user:1', type: 'register', value: 'plain text', version: 3 });
    const member = await run(['member', 'add', 'n2', 'http://127.0.0.1:9', '--endpoints', again.endpoint]);
    expect(member.code).toBe(1);
    expect(member.stderr).toContain('MEMBERSHIP_UNAVAILABLE');
    const unreachable = await run(['kv', 'get', 'k', '--endpoints', 'http://127.0.0.1:9', '--timeout', '2000']);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain('cannot reach');
    noStack(unreachable.stderr);
    expect(await stop(again.child)).toBe(0);
  }, 240_000);
});
