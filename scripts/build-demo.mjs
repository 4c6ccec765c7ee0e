// `npm run build:demo`: builds demo-app/ with Vite into demo-app/dist. Also exported for
// `npm start` and the e2e runner, which build only when the sources are newer than dist.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const app = join(root, 'demo-app');
const dist = join(app, 'dist');

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name === 'dist') continue;
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** Why the build is stale ('missing', 'stale'), or null when dist is up to date. */
export function demoBuildState() {
  const index = join(dist, 'index.html');
  if (!existsSync(index)) return 'missing';
  const built = statSync(index).mtimeMs;
  const sources = Math.max(newest(app), newest(join(root, 'browser', 'src')), newest(join(root, 'core', 'src')));
  return sources > built ? 'stale' : null;
}

export async function buildDemo() {
  let vite;
  try {
    vite = await import('vite');
  } catch {
    throw new Error('vite is not installed (it is a devDependency of demo-app): run `npm install` at the repo root');
  }
  await vite.build({ root: app, base: './', logLevel: 'warn', build: { outDir: dist, emptyOutDir: true, sourcemap: true, target: 'es2022' } });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const t = performance.now();
  await buildDemo();
  console.log(`build:demo: demo-app/dist in ${Math.round(performance.now() - t)} ms`);
}
