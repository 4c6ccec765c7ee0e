// npm run dev:edge [-- --port N] [-- wrangler args]: runs `wrangler dev` (workerd) for the
// edge on 127.0.0.1 with the offline switches, wrangler's own files inside the project
// (.wrangler/config) and state in .wrangler/state. Ctrl-C (or SIGTERM) stops wrangler and
// its workerd processes: they run in their own process group, which gets the signal.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const config = join(root, '.wrangler', 'config');
mkdirSync(config, { recursive: true });
const args = process.argv.slice(2);
const portAt = args.indexOf('--port');
const port = portAt >= 0 ? args.splice(portAt, 2)[1] : (process.env.EDGE_PORT ?? '8787');
const wrangler = join(root, 'node_modules', '.bin', 'wrangler');
const child = spawn(wrangler, ['dev', '--ip', '127.0.0.1', '--port', port, '--persist-to', join(root, '.wrangler', 'state'), ...args], {
  cwd: root,
  stdio: ['ignore', 'inherit', 'inherit'],
  detached: true,
  env: {
    ...process.env,
    WRANGLER_SEND_METRICS: 'false',
    CLOUDFLARE_CF_FETCH_ENABLED: 'false',
    WRANGLER_HIDE_BANNER: 'true',
    NPM_CONFIG_UPDATE_NOTIFIER: 'false',
    XDG_CONFIG_HOME: config,
  },
});
console.log(`dev:edge: wrangler dev on http://127.0.0.1:${port} (Ctrl-C stops it)`);
let stopping = false;
const stop = (signal) => {
  if (stopping) return;
  stopping = true;
  try {
    process.kill(-child.pid, 'SIGINT');
  } catch {
    process.exit(0);
  }
  // workerd exits in ~2 s; make sure nothing is left behind.
  setTimeout(() => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }, 8_000).unref();
  if (signal === 'SIGTERM') process.exitCode = 0;
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
child.on('exit', (code, signal) => process.exit(stopping ? 0 : (code ?? (signal === null ? 0 : 1))));
