// `npm run test:e2e` (part of `npm test`): finds or installs Chromium, bundles the test
// pages and the demo app, and runs the Playwright specs in e2e/specs against a static server on 127.0.0.1.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { buildDemo, demoBuildState } from './build-demo.mjs';
import { ensureChromium } from './find-chromium.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
let chromium;
try {
  chromium = ensureChromium();
} catch (e) {
  console.error(`e2e: ${e.message}`);
  process.exit(1);
}
const out = join(root, 'e2e', '.build');
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(root, 'e2e', 'pages', 'replica-page.ts'), join(root, 'e2e', 'pages', 'client-page.ts')],
  bundle: true,
  format: 'esm',
  target: 'es2022',
  outdir: out,
  sourcemap: true,
  logLevel: 'warning',
});
// The demo specs serve demo-app/dist: build it when its sources are newer.
if (demoBuildState() !== null) await buildDemo();
const require = createRequire(import.meta.url);
const cli = join(dirname(require.resolve('@playwright/test/package.json')), 'cli.js');
const result = spawnSync(process.execPath, [cli, 'test', '-c', join(root, 'e2e', 'playwright.config.ts'), ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, CHROMIUM_PATH: chromium, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1' },
});
process.exit(result.status ?? 1);
