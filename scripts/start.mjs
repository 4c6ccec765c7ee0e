// `npm start`: the whole local stack. A 3-node origin cluster on 127.0.0.1:7101-7103 (data
// under .neuroplex/), the edge worker in `wrangler dev` on :8787 pointed at the origin, and
// the demo app on :7100 (built first when its sources changed). Ports are checked first;
// Ctrl-C stops every process this started (each runs in its own process group).
//   NEUROPLEX_BASE_PORT, EDGE_PORT, DEMO_PORT move the ports; --no-edge skips the edge.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDemo, demoBuildState } from './build-demo.mjs';
import { startDemoServer } from './demo-server.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const BASE_PORT = Number(process.env.NEUROPLEX_BASE_PORT ?? 7101);
const EDGE_PORT = Number(process.env.EDGE_PORT ?? 8787);
const DEMO_PORT = Number(process.env.DEMO_PORT ?? 7100);
const NODES = 3;
const withEdge = !process.argv.includes('--no-edge');
const EDGE_START_TIMEOUT_MS = 90_000;

function portFree(port) {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

const wanted = [
  ...Array.from({ length: NODES }, (_, i) => [BASE_PORT + i, `origin node n${i + 1}`, 'NEUROPLEX_BASE_PORT']),
  ...(withEdge ? [[EDGE_PORT, 'edge (wrangler dev)', 'EDGE_PORT']] : []),
  [DEMO_PORT, 'demo app', 'DEMO_PORT'],
];
for (const [port, what, env] of wanted) {
  if (!(await portFree(port))) {
    console.error(`npm start: port ${port} on 127.0.0.1 (for the ${what}) is in use: another Neuroplex stack, or another program. Stop it, or set ${env} to another port.`);
    process.exit(1);
  }
}

const state = demoBuildState();
if (state !== null) {
  console.log(state === 'missing' ? 'npm start: demo-app/dist is missing; building it (vite)…' : 'npm start: demo-app sources changed; rebuilding (vite)…');
  try {
    await buildDemo();
  } catch (e) {
    console.error(`npm start: could not build the demo app: ${e.message}\nRun \`npm run build:demo\` to see the whole error.`);
    process.exit(1);
  }
}

/** Every child runs in its own process group: a signal to the group reaches its workers too. */
const children = [];
/** Any free loopback port (wrangler's inspector: its default 9229 may belong to a debugger). */
function anyFreePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function startGroup(name, command, args, env) {
  const child = spawn(command, args, { cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const prefix = `[${name}] `;
  const relay = (b) => {
    for (const line of b.toString().trimEnd().split('\n')) if (line.trim() !== '') console.log(prefix + line);
  };
  child.stdout.on('data', relay);
  child.stderr.on('data', relay);
  child.exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  child.label = name;
  children.push(child);
  return child;
}

let stopping = false;
let demo;
async function stopAll(code) {
  if (stopping) return;
  stopping = true;
  console.log('\nnpm start: stopping…');
  await demo?.close();
  for (const c of children) {
    if (c.exitCode !== null || c.signalCode !== null) continue;
    try {
      process.kill(-c.pid, 'SIGINT');
    } catch {
      // gone already
    }
  }
  const timer = setTimeout(() => {
    for (const c of children) {
      try {
        process.kill(-c.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }, 8_000);
  await Promise.all(children.map((c) => c.exited));
  clearTimeout(timer);
  console.log('npm start: every process stopped.');
  process.exit(code);
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

const origins = Array.from({ length: NODES }, (_, i) => `http://127.0.0.1:${BASE_PORT + i}`);
const cluster = startGroup('cluster', process.execPath, [join(root, 'server', 'bin', 'neuroplex.js'), 'cluster', '--nodes', String(NODES), '--base-port', String(BASE_PORT), '--data', join(root, '.neuroplex')]);
cluster.exited.then(({ code }) => {
  if (!stopping) {
    console.error(`npm start: the origin cluster exited (${code}); stopping the rest.`);
    void stopAll(1);
  }
});

/** Waits (bounded) until a node names a leader, so the URLs printed below answer. */
async function waitForLeader() {
  const started = Date.now();
  while (!stopping && Date.now() - started < 30_000) {
    for (const o of origins) {
      try {
        const r = await fetch(`${o}/v1/cluster`, { signal: AbortSignal.timeout(800) });
        if ((await r.json()).leader) return true;
      } catch {
        // not up yet
      }
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  return false;
}

let edgeUrl = null;
if (withEdge) {
  const config = join(root, '.wrangler', 'config');
  mkdirSync(config, { recursive: true });
  const edge = startGroup(
    'edge',
    join(root, 'node_modules', '.bin', 'wrangler'),
    ['dev', '--ip', '127.0.0.1', '--port', String(EDGE_PORT), '--inspector-port', String(await anyFreePort()), '--persist-to', join(root, '.wrangler', 'state'), '--log-level', 'warn', '--var', `ORIGIN_URL:${origins.join(',')}`],
    { WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_HIDE_BANNER: 'true', NPM_CONFIG_UPDATE_NOTIFIER: 'false', XDG_CONFIG_HOME: config },
  );
  const url = `http://127.0.0.1:${EDGE_PORT}`;
  const started = Date.now();
  let lastNote = 0;
  process.stdout.write('npm start: starting the edge (wrangler dev; the first start takes ~12 s)');
  for (;;) {
    if (stopping) break;
    if (edge.exitCode !== null || edge.signalCode !== null) {
      console.log('\nnpm start: wrangler dev exited (see [edge] above); the demo runs against the origin only.');
      break;
    }
    try {
      const r = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1_000) });
      if (r.ok) {
        edgeUrl = url;
        console.log(` ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        break;
      }
    } catch {
      // not up yet
    }
    if (Date.now() - started > EDGE_START_TIMEOUT_MS) {
      console.log(`\nnpm start: the edge did not answer within ${EDGE_START_TIMEOUT_MS / 1000} s; the demo runs against the origin only.`);
      try {
        process.kill(-edge.pid, 'SIGINT');
      } catch {
        // gone
      }
      break;
    }
    if (Date.now() - lastNote > 2_000) {
      lastNote = Date.now();
      process.stdout.write('.');
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}

if (!stopping && !(await waitForLeader()) && !stopping) console.log('npm start: the origin cluster has no leader after 30 s (see [cluster] above); starting the demo anyway.');
if (!stopping) {
  demo = await startDemoServer({ port: DEMO_PORT, origins, edge: edgeUrl });
  // The CLI's default endpoint is :7101; on other ports it needs them named.
  const status = BASE_PORT === 7101 ? 'npx neuroplex status' : `NEUROPLEX_ENDPOINTS=${origins.join(',')} npx neuroplex status`;
  console.log(`
Neuroplex local stack is up:
  demo app        ${demo.url}        open it in two windows
  origin cluster  ${origins.join('  ')}   (${status})
  edge            ${edgeUrl ?? 'not running'}${edgeUrl === null ? '' : `      (ws ${edgeUrl.replace('http', 'ws')}/v1/sync?ks=demo&region=eu-west)`}
Try: stop a node (kill its pid; \`${status}\` lists them) and watch the cluster panel.
Ctrl-C stops everything.`);
}
