// Finds the Chromium that end-to-end tests drive: $CHROMIUM_PATH, else Debian's package.
// If there is none and we run as root with apt-get (CI, a fresh machine), installs
// Debian's package as the project's RECIPES.md measured; otherwise says exactly what to
// install. Playwright's own browser download does not work here.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const CANDIDATES = ['/usr/lib/chromium/chromium', '/usr/bin/chromium', '/usr/bin/chromium-browser'];
const PACKAGES = ['chromium', 'fonts-liberation', 'fonts-noto-color-emoji'];

export function findChromium() {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!existsSync(fromEnv)) throw new Error(`CHROMIUM_PATH=${fromEnv} does not exist`);
    return fromEnv;
  }
  return CANDIDATES.find((p) => existsSync(p));
}

function canApt() {
  return process.getuid?.() === 0 && spawnSync('which', ['apt-get']).status === 0;
}

export function ensureChromium() {
  const found = findChromium();
  if (found !== undefined) return found;
  if (!canApt()) {
    throw new Error(
      'No Chromium found for the end-to-end tests. Install it with\n' +
        `  sudo apt-get install -y --no-install-recommends ${PACKAGES.join(' ')}\n` +
        'or point CHROMIUM_PATH at a Chromium or Chrome binary.',
    );
  }
  console.log(`e2e: installing Debian's ${PACKAGES.join(', ')} (about 30-60 s)...`);
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...PACKAGES], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  const installed = findChromium();
  if (installed === undefined) throw new Error('apt-get installed chromium, but no binary was found at the usual paths');
  return installed;
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(ensureChromium());
