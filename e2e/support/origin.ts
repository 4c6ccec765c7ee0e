// A real origin for the client e2e specs: one `neuroplex start` process on 127.0.0.1 (its
// own process group, data in a temporary folder, stopped and removed by stop()), reached
// by the browsers through a TCP proxy the spec controls: `cut()` closes every open
// connection from the server side (a browser's setOffline never closes a socket), `block()`
// refuses new ones until `unblock()`.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TcpProxy } from '../../test/support/tcp-proxy.ts';

const BIN = fileURLToPath(new URL('../../server/bin/neuroplex.js', import.meta.url));

export interface E2eOrigin {
  /** ws://127.0.0.1:<proxy>/v1/sync */
  readonly syncUrl: string;
  cut(): void;
  block(): void;
  unblock(): void;
  /** Connections the proxy has accepted so far (a reconnect counts). */
  readonly accepted: number;
  stop(): Promise<void>;
}

export async function startE2eOrigin(): Promise<E2eOrigin> {
  const dir = mkdtempSync(join(tmpdir(), 'neuroplex-e2e-'));
  const proc: ChildProcess = spawn(process.execPath, [BIN, 'start', '--id', 'n1', '--listen', '127.0.0.1:0', '--data', join(dir, 'n1')], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`origin did not start within 15 s: ${err}`)), 15_000);
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`origin exited with ${code}: ${err}`));
    });
  });

  const proxy = await TcpProxy.start();
  proxy.setTarget(port);
  return {
    syncUrl: `ws://127.0.0.1:${proxy.port}/v1/sync`,
    cut: () => proxy.cut(),
    block: () => proxy.block(),
    unblock: () => proxy.unblock(),
    get accepted() {
      return proxy.stats.accepted;
    },
    async stop() {
      await proxy.close();
      if (proc.pid !== undefined && proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise<void>((r) => proc.once('exit', () => r()));
        try {
          process.kill(-proc.pid, 'SIGINT');
        } catch {
          // already gone
        }
        const timer = setTimeout(() => {
          try {
            process.kill(-proc.pid!, 'SIGKILL');
          } catch {
            // already gone
          }
        }, 5_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
