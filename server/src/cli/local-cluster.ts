// `neuroplex cluster`: a local cluster of real node processes on 127.0.0.1, data under
// <root>/<id>/, one cluster secret kept in <root>/cluster-secret (so a restart rejoins the
// same cluster). Prints where each node listens; Ctrl-C stops every node it started.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliError } from './args.ts';
import type { Output } from './kv.ts';

export interface LocalClusterOptions {
  readonly nodes: number;
  readonly basePort: number;
  readonly root: string;
}

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'neuroplex.js');

function clusterSecret(root: string): string {
  const file = join(root, 'cluster-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = randomBytes(24).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

export async function runLocalCluster(options: LocalClusterOptions, io: Output): Promise<number> {
  try {
    mkdirSync(options.root, { recursive: true });
  } catch (cause) {
    throw new CliError(`cluster: cannot create ${options.root}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`);
  }
  const secret = clusterSecret(options.root);
  const members = Array.from({ length: options.nodes }, (_, i) => ({ id: `n${i + 1}`, port: options.basePort + i }));
  const children: ChildProcess[] = [];
  let stopping = false;
  const exited = members.map(
    (m) =>
      new Promise<number>((resolveExit) => {
        const peers = members.filter((x) => x !== m).map((x) => `${x.id}=127.0.0.1:${x.port}`).join(',');
        const args = [BIN, 'start', '--id', m.id, '--listen', `127.0.0.1:${m.port}`, '--data', join(options.root, m.id)];
        if (peers !== '') args.push('--peers', peers);
        const child = spawn(process.execPath, args, { env: { ...process.env, NEUROPLEX_CLUSTER_SECRET: secret }, stdio: ['ignore', 'pipe', 'pipe'] });
        children.push(child);
        const prefix = `[${m.id}] `;
        child.stdout!.on('data', (b: Buffer) => io.out(b.toString().trimEnd().split('\n').map((l) => prefix + l).join('\n')));
        child.stderr!.on('data', (b: Buffer) => io.out(b.toString().trimEnd().split('\n').map((l) => prefix + l).join('\n')));
        child.on('exit', (code, signal) => {
          // The others keep running: a cluster survives the loss of a minority.
          if (!stopping) io.out(`${prefix}exited (${signal ?? code}); the other nodes keep running`);
          resolveExit(stopping ? 0 : (code ?? 1));
        });
      }),
  );
  function stopAll(): void {
    if (stopping) return;
    stopping = true;
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  }
  io.out(`neuroplex cluster: ${options.nodes} nodes, data under ${options.root}`);
  for (const m of members) io.out(`  ${m.id}  http://127.0.0.1:${m.port}`);
  io.out('Ctrl-C stops them all.');
  process.once('SIGINT', stopAll);
  process.once('SIGTERM', stopAll);
  const codes = await Promise.all(exited);
  return stopping || codes.every((c) => c === 0) ? 0 : 1;
}
