// Test support for the edge: starts `wrangler dev` (workerd) on a loopback port with the
// offline switches, in its own process group so stopping it stops workerd too, and a Node
// sync client (the core ClientSyncSession over the `ws` package) with the in-memory
// "disk" of sync-harness's ClientHost.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import WebSocket from 'ws';
import type { ReplicaDebugInfo } from '../../edge/src/replica-object.ts';
import { Multiplexer } from '../../core/src/sync/multiplexer.ts';
import { freePort, waitUntilFree } from './free-port.ts';
import { ClientHost } from './sync-harness.ts';

const ROOT = join(import.meta.dirname, '..', '..');

/** The environment every script that starts wrangler sets (offline, no files in $HOME). */
export function wranglerEnv(): NodeJS.ProcessEnv {
  const config = join(ROOT, '.wrangler', 'config');
  mkdirSync(config, { recursive: true });
  return {
    ...process.env,
    WRANGLER_SEND_METRICS: 'false',
    CLOUDFLARE_CF_FETCH_ENABLED: 'false',
    WRANGLER_HIDE_BANNER: 'true',
    NPM_CONFIG_UPDATE_NOTIFIER: 'false',
    XDG_CONFIG_HOME: config,
  };
}

export interface WranglerDev {
  readonly port: number;
  readonly url: string;
  /** wrangler's pid, also its process group's id (it runs detached). */
  readonly pid: number;
  readonly output: () => string;
  stop(): Promise<void>;
  /** SIGKILL to the whole process group (workerd too), as a crash; resolves once it exited. */
  kill(): Promise<void>;
}

/** Starts wrangler dev and waits (bounded) until /health answers. */
export async function startWranglerDev(options: { port: number; persistTo: string; vars?: Record<string, string>; timeoutMs?: number; config?: string }): Promise<WranglerDev> {
  // The inspector gets a free port too: wrangler's default (9229) is shared by every
  // wrangler and `node --inspect` on the machine, and a taken one stops wrangler at start.
  const inspectorPort = await freePort();
  const args = ['dev', ...(options.config === undefined ? [] : ['--config', options.config]), '--ip', '127.0.0.1', '--port', String(options.port), '--inspector-port', String(inspectorPort), '--persist-to', options.persistTo, '--log-level', 'warn'];
  for (const [k, v] of Object.entries(options.vars ?? {})) args.push('--var', `${k}:${v}`);
  const child: ChildProcess = spawn(join(ROOT, 'node_modules', '.bin', 'wrangler'), args, { cwd: ROOT, env: wranglerEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killGroup = (): void => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // the group is already gone (a caller killed it by `pid`)
    }
  };
  // wrangler exits before the workerd it started, and workerd holds the ports: a restart on
  // the same port must wait until they are free again.
  // A workerd that outlives wrangler's SIGINT and keeps the ports past the wait is killed
  // with the group, so no stop leaves one running.
  const released = async (): Promise<void> => {
    try {
      await waitUntilFree(options.port, 5_000);
      await waitUntilFree(inspectorPort, 5_000);
    } catch {
      killGroup();
      await waitUntilFree(options.port);
      await waitUntilFree(inspectorPort);
    }
  };
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) {
      killGroup(); // wrangler is gone; anything it left in its group goes too
      return released();
    }
    try {
      process.kill(-child.pid!, 'SIGINT');
    } catch {
      return;
    }
    const t = setTimeout(killGroup, 8_000);
    await exited;
    clearTimeout(t);
    await released();
  };
  const kill = async (): Promise<void> => {
    killGroup();
    await exited;
    await released();
  };
  const url = `http://127.0.0.1:${options.port}`;
  const deadline = Date.now() + (options.timeoutMs ?? 45_000);
  for (;;) {
    if (child.exitCode !== null) {
      killGroup(); // a workerd it started may still run
      throw new Error(`wrangler dev exited early:\n${out}`);
    }
    try {
      const r = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1_000) });
      if (r.ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`wrangler dev did not answer /health in time:\n${out}`);
    }
    await sleep(250);
  }
  return { port: options.port, url, pid: child.pid!, output: () => out, stop, kill };
}

export interface WranglerFixture {
  /** The running wrangler dev (throws before beforeAll ran). */
  readonly dev: WranglerDev;
  /** Its port, kept across restarts (clients reconnect to the same URL). */
  readonly port: number;
  /** Clients the tests open: all closed after the block. */
  readonly clients: EdgeClient[];
  /** Stops wrangler if it runs (a killed one is already gone) and starts it again on the same port and storage. */
  restart(vars?: Record<string, string>): Promise<void>;
  /** The sync URL for a query such as `ks=notes&region=r1`. */
  syncUrl(query: string): string;
  /** The replica's debug info (the Worker must run with EDGE_DEBUG=1). */
  debug(ks: string, region?: string): Promise<ReplicaDebugInfo>;
}

/**
 * One `wrangler dev` for a describe block (its beforeAll/afterAll): a persist dir of its
 * own, a free port kept across restarts, and every client in `clients` closed at the end.
 */
export function useWranglerDev(options: { vars?: Record<string, string> } = {}): WranglerFixture {
  const dir = mkdtempSync(join(tmpdir(), 'np-edge-'));
  let dev: WranglerDev | undefined;
  let port = 0;
  const clients: EdgeClient[] = [];
  const fixture: WranglerFixture = {
    get dev(): WranglerDev {
      if (dev === undefined) throw new Error('wrangler dev is not running');
      return dev;
    },
    get port(): number {
      return port;
    },
    clients,
    async restart(vars = options.vars) {
      await dev?.stop();
      dev = await startWranglerDev({ port, persistTo: dir, ...(vars === undefined ? {} : { vars }) });
    },
    syncUrl: (query) => `ws://127.0.0.1:${port}/v1/sync?${query}`,
    async debug(ks, region = 'r1') {
      const r = await fetch(`${fixture.dev.url}/v1/debug/replica?ks=${ks}&region=${region}`);
      if (r.status !== 200) throw new Error(`debug route answered ${r.status}: is EDGE_DEBUG=1 set?`);
      return (await r.json()) as ReplicaDebugInfo;
    },
  };
  beforeAll(async () => {
    port = await freePort();
    await fixture.restart();
  }, 60_000);
  afterAll(async () => {
    for (const c of clients) await c.close();
    await dev?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);
  return fixture;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Waits until `cond` holds, checking every 20 ms, at most `timeoutMs`. */
export async function waitFor(cond: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** A Node client of the edge: one socket, one session, the ClientHost's replica and disk. */
export class EdgeClient {
  readonly host: ClientHost;
  ws: WebSocket | undefined = undefined;
  mux: Multiplexer | undefined = undefined;
  closeCode: number | undefined = undefined;
  closeReason = '';

  constructor(id: number, keyspace = 'default') {
    this.host = new ClientHost(id, keyspace);
  }

  /** Opens a socket to `url` (ws://.../v1/sync?...) and starts a session on it. */
  async connect(url: string, token = ''): Promise<void> {
    const ws = new WebSocket(url);
    ws.binaryType = 'nodebuffer';
    this.closeCode = undefined;
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const mux = new Multiplexer();
    this.ws = ws;
    this.mux = mux;
    ws.on('message', (data: Buffer) => {
      mux.receive(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      this.pump();
    });
    ws.on('close', (code, reason) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
    });
    this.host.open(mux, { token });
    this.pump();
  }

  /** Runs the client's loop: effects, then frames to the socket. */
  pump(): void {
    this.host.drain();
    const ws = this.ws;
    if (ws === undefined || this.mux === undefined) return;
    for (const f of this.mux.takeFrames()) if (ws.readyState === WebSocket.OPEN) ws.send(f);
  }

  get synced(): boolean {
    return this.host.session?.status === 'synced';
  }

  /** Synced, with nothing waiting to be stored or acknowledged. */
  get quiet(): boolean {
    return this.synced && this.host.disk.pending.length === 0 && this.host.session!.inflightBytes === 0;
  }

  /** Closes the socket and waits (bounded) for it to be closed. */
  async close(): Promise<void> {
    const ws = this.ws;
    if (ws === undefined || ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise<void>((r) => ws.once('close', () => r()));
    ws.close(1000, 'bye');
    await Promise.race([closed, sleep(2_000)]);
  }
}
