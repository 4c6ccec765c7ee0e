// `npm start`: the local stack. Today that is a 3-node origin cluster on 127.0.0.1:7101-7103
// (data under .neuroplex/); the edge worker and the demo app join it as they are built.
// Ctrl-C stops every process this started.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const BASE_PORT = Number(process.env.NEUROPLEX_BASE_PORT ?? 7101);
const NODES = 3;

function portFree(port) {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

for (let i = 0; i < NODES; i++) {
  const port = BASE_PORT + i;
  if (!(await portFree(port))) {
    console.error(`npm start: port ${port} on 127.0.0.1 is in use (another Neuroplex stack?). Stop it, or set NEUROPLEX_BASE_PORT to another first port.`);
    process.exit(1);
  }
}

console.log('Neuroplex local stack');
console.log('  origin cluster: 3 nodes (below); try `npx neuroplex status` and `npx neuroplex kv put hello world`');
console.log('  edge worker and demo app: not built yet (see README.md, Status)');
const child = spawn(process.execPath, [join(root, 'server', 'bin', 'neuroplex.js'), 'cluster', '--nodes', String(NODES), '--base-port', String(BASE_PORT), '--data', join(root, '.neuroplex')], {
  stdio: 'inherit',
});
const stop = () => child.kill('SIGINT');
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
child.on('exit', (code) => process.exit(code ?? 0));
