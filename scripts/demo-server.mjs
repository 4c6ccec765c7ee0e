// The demo app's server: serves the built app (demo-app/dist) on 127.0.0.1, its runtime
// config (/config.json: origin nodes, edge, regions) and /api/cluster, which reads every
// origin node's /v1/cluster and /metrics server-side, so the origin needs no CORS.
//   node scripts/demo-server.mjs --port 7100 --origins http://127.0.0.1:7101,... [--edge http://127.0.0.1:8787]
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const DEMO_DIST = join(root, 'demo-app', 'dist');
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.webmanifest': 'application/manifest+json',
};
const NODE_TIMEOUT_MS = 800;

function metric(text, name) {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m === null ? null : Number(m[1]);
}

/** One origin node as the panel shows it; `up: false` when it does not answer in time. */
async function readNode(url) {
  try {
    const signal = AbortSignal.timeout(NODE_TIMEOUT_MS);
    const [cluster, metrics] = await Promise.all([
      fetch(`${url}/v1/cluster`, { signal }).then((r) => r.json()),
      fetch(`${url}/metrics`, { signal }).then((r) => r.text()),
    ]);
    return {
      url,
      up: true,
      id: cluster.id ?? null,
      leader: cluster.leader ?? null,
      term: cluster.term ?? metric(metrics, 'neuroplex_raft_term'),
      commitIndex: cluster.commitIndex ?? metric(metrics, 'neuroplex_raft_commit_index'),
      appliedIndex: cluster.appliedIndex ?? metric(metrics, 'neuroplex_raft_applied_index'),
      isLeader: metric(metrics, 'neuroplex_raft_is_leader') === 1,
    };
  } catch {
    return { url, up: false, id: null, leader: null, term: null, commitIndex: null, appliedIndex: null, isLeader: false };
  }
}

/**
 * Starts the server; resolves once it listens.
 * @param {{ port: number, origins: string[], edge?: string | null, regions?: string[], keyspace?: string, dist?: string }} options
 */
export function startDemoServer(options) {
  const dist = options.dist ?? DEMO_DIST;
  const config = JSON.stringify({
    origins: options.origins,
    edge: options.edge ?? null,
    regions: options.regions ?? ['eu-west', 'us-east'],
    keyspace: options.keyspace ?? 'demo',
  });
  const server = createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/config.json') {
      res.writeHead(200, { 'content-type': TYPES['.json'], 'cache-control': 'no-store' }).end(config);
      return;
    }
    if (path === '/api/cluster') {
      const nodes = await Promise.all(options.origins.map(readNode));
      res.writeHead(200, { 'content-type': TYPES['.json'], 'cache-control': 'no-store' }).end(JSON.stringify({ nodes }));
      return;
    }
    const rel = normalize(decodeURIComponent(path)).replace(/^([/\\])+/, '');
    let file = join(dist, rel);
    if (!file.startsWith(dist + sep) && file !== dist) {
      res.writeHead(400).end('bad path');
      return;
    }
    if (!existsSync(file) || !statSync(file).isFile()) file = join(dist, 'index.html');
    if (!existsSync(file)) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('demo-app/dist is missing: run `npm run build:demo`');
      return;
    }
    const hashed = rel.startsWith('assets/');
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => {
      resolve({
        url: `http://127.0.0.1:${options.port}`,
        close: () => new Promise((r) => {
          server.closeAllConnections();
          server.close(() => r());
        }),
      });
    });
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const flag = (name, fallback) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : fallback;
  };
  const port = Number(flag('--port', '7100'));
  const origins = flag('--origins', 'http://127.0.0.1:7101,http://127.0.0.1:7102,http://127.0.0.1:7103').split(',');
  const edge = flag('--edge', null);
  const s = await startDemoServer({ port, origins, edge });
  console.log(`demo on ${s.url}`);
  const stop = () => void s.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
