// The CLI's argument handling in-process (fast); test/integration/cli.test.ts runs it as
// real processes against a real node.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { main } from '../../../server/src/cli/main.ts';
import { parseListen } from '../../../server/src/cli/start.ts';

const dirs: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    err += String(chunk);
    return true;
  });
  const code = await main(args, { out: (line) => (out += `${line}\n`) });
  vi.restoreAllMocks();
  return { code, out, err };
}

describe('neuroplex CLI arguments', () => {
  it('usage errors exit 2 with a one-line message and no stack trace', async () => {
    const cases: [string[], RegExp][] = [
      [['start', '--bogus'], /start: Unknown option '--bogus'\. See `neuroplex start --help`/],
      [['start', '--listen', 'nonsense', '--data', '/tmp/x'], /--listen must be host:port/],
      [['start', '--listen', '127.0.0.1:99999', '--data', '/tmp/x'], /--listen must be host:port/],
      [['start', '--listen', '127.0.0.1:0'], /--data <dir> is required/],
      [['start', '--data', '/tmp/x', '--snapshot-every', 'many'], /--snapshot-every must be an integer/],
      [['start', '--data', '/tmp/x', '--id', 'bad id'], /--id must be/],
      [['start', 'extra'], /unexpected argument "extra"/],
      [['kv', 'get'], /kv get: missing <key>/],
      [['kv', 'put', 'k'], /kv put: missing <value>/],
      [['kv', 'cas', 'k', 'x', 'v'], /<expected-version> must be an integer/],
      [['kv', 'get', 'k', '--consistency', 'weird'], /--consistency must be strong, causal or eventual/],
      [['kv', 'get', 'k', '--endpoints', 'ftp://x'], /is not http/],
      [['kv', 'get', 'k', '--endpoints', 'not a url'], /is not a URL/],
      [['kv', 'frob'], /unknown command "kv frob"/],
      [['member', 'add', 'n2'], /missing <url>/],
      [['member', 'zap'], /unknown command "member zap"/],
      [['cluster', '--nodes', '9'], /--nodes must be an integer in 1\.\.7/],
      [['frobnicate'], /unknown command "frobnicate"/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.err).toMatch(message);
      expect(r.err.trim().split('\n')).toHaveLength(1);
    }
    expect((await cli([])).code).toBe(2);
  });

  it('failures exit 1 (unusable data directory, unreachable node) or 2 (a cluster member without a secret)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'npx-cliu-'));
    dirs.push(dir);
    const file = join(dir, 'file');
    writeFileSync(file, 'x');
    const notDir = await cli(['start', '--data', file, '--listen', '127.0.0.1:0']);
    expect(notDir).toMatchObject({ code: 1 });
    expect(notDir.err).toContain('exists and is not a directory');
    const under = await cli(['start', '--data', join(file, 'sub'), '--listen', '127.0.0.1:0']);
    expect(under.code).toBe(1);
    expect(under.err).toMatch(/is not usable: ENOTDIR/);
    const saved = process.env.NEUROPLEX_CLUSTER_SECRET;
    delete process.env.NEUROPLEX_CLUSTER_SECRET;
    const noSecret = await cli(['start', '--data', dir, '--peers', 'n2=127.0.0.1:7102']);
    if (saved !== undefined) process.env.NEUROPLEX_CLUSTER_SECRET = saved;
    expect(noSecret.code).toBe(2);
    expect(noSecret.err).toContain('cluster secret');
    const badPeers = await cli(['start', '--data', dir, '--peers', 'n2', '--cluster-secret', 'x'.repeat(16)]);
    expect(badPeers.code).toBe(2);
    expect(badPeers.err).toContain('--peers entries must be id=host:port');
    const self = await cli(['start', '--id', 'n1', '--data', dir, '--peers', 'n1=127.0.0.1:7101', '--cluster-secret', 'x'.repeat(16)]);
    expect(self.code).toBe(2);
    expect(self.err).toContain("own id");
    // A port that was just free: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as AddressInfo).port;
        srv.close(() => resolve(p));
      });
    });
    const down = await cli(['kv', 'get', 'k', '--endpoints', `http://127.0.0.1:${port}`, '--timeout', '2000']);
    expect(down.code).toBe(1);
    expect(down.err).toContain(`cannot reach http://127.0.0.1:${port}: ECONNREFUSED`);
  });

  it('--help on every command exits 0 with its usage', async () => {
    for (const [args, text] of [
      [['--help'], 'Usage: neuroplex <command>'],
      [['start', '--help'], 'Usage: neuroplex start'],
      [['cluster', '--help'], 'Usage: neuroplex cluster'],
      [['status', '--help'], 'Usage: neuroplex status'],
      [['kv', '--help'], 'Usage: neuroplex kv'],
      [['kv', 'get', '--help'], 'kv get <key>'],
      [['kv', 'watch', '-h'], 'kv watch <prefix>'],
      [['member', '--help'], 'Usage: neuroplex member'],
      [['member', 'add', '--help'], 'member add <id> <url>'],
    ] as [string[], string][]) {
      const r = await cli(args);
      expect({ args, code: r.code }).toEqual({ args, code: 0 });
      expect(r.out).toContain(text);
    }
  });

  it('parses --listen', () => {
    expect(parseListen('127.0.0.1:7101')).toEqual({ host: '127.0.0.1', port: 7101 });
    expect(parseListen('localhost:0')).toEqual({ host: 'localhost', port: 0 });
    expect(() => parseListen(':80')).toThrow(/host:port/);
  });
});
