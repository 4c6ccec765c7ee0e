// Type-checks every workspace and the tests, each with its own tsconfig, so that
// core/ is checked without Node or DOM types (a `Buffer` or `window` there fails here).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// typescript 7 does not export ./bin/tsc; resolve it next to its package.json.
const tsc = join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');
const projects = ['core', 'browser', 'edge', 'server', 'demo-app', '.'];
let failed = 0;
for (const project of projects) {
  const config = `${project}/tsconfig.json`;
  if (!existsSync(config)) continue;
  const result = spawnSync(process.execPath, [tsc, '-p', config], { stdio: 'inherit' });
  if (result.status !== 0) {
    failed++;
    console.error(`typecheck: ${config} failed`);
  }
}
if (failed > 0) process.exit(1);
console.log(`typecheck: ${projects.length} projects clean`);
