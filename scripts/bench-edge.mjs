// npm run bench:edge [-- --json]: runs bench/edge/edge-bench.ts with tsx (the benchmark
// imports the TypeScript sources of core/ and the test support directly).
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const child = spawn(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'bench', 'edge', 'edge-bench.ts'), ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
const forward = (signal) => child.kill(signal);
process.on('SIGINT', forward);
process.on('SIGTERM', forward);
child.on('exit', (code, signal) => process.exit(code ?? (signal === null ? 0 : 1)));
