// NeuroplexClient in Debian Chromium against a real origin process (e2e/support/origin.ts):
// two browser contexts edit offline, one reloads before the origin is back, both converge;
// edits made offline survive closing the browser and relaunching it on its profile; the
// server cuts every socket and the clients reconnect by themselves; two tabs of one context
// share one socket (Web Locks + BroadcastChannel) and presence (each sees the other and a
// third page) and the second takes over when the first closes. Screenshots of the
// converged pages are kept under test-results/.
import { type BrowserContext, chromium, expect as baseExpect, type Page, test } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type E2eOrigin, startE2eOrigin } from '../support/origin.ts';

type State = { views: number; tags: string[]; notes: string };
type Api = {
  increment(by: number): Promise<void>;
  tag(t: string): Promise<void>;
  append(text: string): Promise<void>;
  state(): State;
  status(): { status: string; unacknowledged: number; statuses: string[]; tabRole: string };
  present(name: string): void;
  peers(): string[];
};
declare global {
  interface Window {
    np: Api;
  }
}

// Two browser launches and an origin process: on a loaded 2-core machine these take longer
// than the config's 30 s default (about 10 s each when the machine is quiet).
test.describe.configure({ timeout: 90_000 });
const expect = baseExpect.configure({ timeout: 20_000 });

let origin: E2eOrigin;
test.beforeAll(async () => {
  origin = await startE2eOrigin();
});
test.afterAll(async () => {
  await origin?.stop();
});

function pageUrl(ks: string): string {
  return `/client.html?sync=${encodeURIComponent(origin.syncUrl)}&ks=${ks}`;
}

async function open(context: BrowserContext, ks: string, baseURL?: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(baseURL === undefined ? pageUrl(ks) : new URL(pageUrl(ks), baseURL).toString());
  await expect(page.locator('body[data-ready="true"]')).toBeAttached();
  return page;
}

async function synced(page: Page): Promise<void> {
  await expect.poll(() => page.evaluate(() => window.np.status()), { timeout: 30_000 }).toMatchObject({ status: 'synced', unacknowledged: 0 });
}

test('two contexts edit offline, one reloads, both come back to the same state', async ({ browser, baseURL }, info) => {
  const ks = 'offline-edits';
  const ctxA = await browser.newContext({ baseURL });
  const ctxB = await browser.newContext({ baseURL });
  try {
    const a = await open(ctxA, ks);
    const b = await open(ctxB, ks);
    await synced(a);
    await synced(b);

    // setOffline fires the page's `offline` event: the client drops its socket at once.
    await ctxA.setOffline(true);
    await ctxB.setOffline(true);
    await expect(a.locator('#status')).toHaveText('offline');
    await expect(b.locator('#status')).toHaveText('offline');
    await a.evaluate(() => window.np.increment(2));
    await a.evaluate(() => window.np.append('from A. '));
    await b.evaluate(() => window.np.increment(3));
    await b.evaluate(() => window.np.tag('b-tag'));
    expect((await b.evaluate(() => window.np.status())).unacknowledged).toBe(2);

    // B reloads while the origin is still out of reach (the page itself must load).
    origin.block();
    await ctxB.setOffline(false);
    await b.reload();
    await expect(b.locator('body[data-ready="true"]')).toBeAttached();
    expect(await b.evaluate(() => window.np.state())).toEqual({ views: 3, tags: ['b-tag'], notes: '' });
    expect((await b.evaluate(() => window.np.status())).unacknowledged).toBe(2);

    // Both come back.
    origin.unblock();
    await ctxA.setOffline(false);
    await synced(a);
    await synced(b);
    const want: State = { views: 5, tags: ['b-tag'], notes: 'from A. ' };
    await expect.poll(() => a.evaluate(() => window.np.state())).toEqual(want);
    await expect.poll(() => b.evaluate(() => window.np.state())).toEqual(want);
    await expect(b.locator('#views')).toHaveText('5');
    await a.screenshot({ path: info.outputPath('context-a.png') });
    await b.screenshot({ path: info.outputPath('context-b.png') });
  } finally {
    await ctxA.close();
    await ctxB.close();
  }
});

test('offline edits survive closing the browser and relaunching it on its profile', async ({ browser, baseURL }, info) => {
  const ks = 'relaunch';
  const profile = mkdtempSync(join(tmpdir(), 'neuroplex-profile-'));
  const launch = (): Promise<BrowserContext> => chromium.launchPersistentContext(profile, { executablePath: process.env.CHROMIUM_PATH, baseURL });
  try {
    let persistent = await launch();
    let p = await open(persistent, ks);
    await synced(p);
    await p.evaluate(() => window.np.increment(1));
    await synced(p);
    await persistent.setOffline(true);
    await expect(p.locator('#status')).toHaveText('offline');
    await p.evaluate(() => window.np.increment(7));
    await p.evaluate(() => window.np.append('kept offline'));
    expect((await p.evaluate(() => window.np.status())).unacknowledged).toBe(2);
    await persistent.close();

    // Relaunch on the same profile with the origin out of reach: the state is IndexedDB's.
    origin.block();
    persistent = await launch();
    p = await open(persistent, ks);
    expect(await p.evaluate(() => window.np.state())).toEqual({ views: 8, tags: [], notes: 'kept offline' });
    expect((await p.evaluate(() => window.np.status())).unacknowledged).toBe(2);
    origin.unblock();
    await synced(p);

    // Another browser context sees what the relaunched one sent.
    const other = await browser.newContext({ baseURL });
    const q = await open(other, ks);
    await synced(q);
    await expect.poll(() => q.evaluate(() => window.np.state())).toEqual({ views: 8, tags: [], notes: 'kept offline' });
    await p.screenshot({ path: info.outputPath('relaunched.png') });
    await other.close();
    await persistent.close();
  } finally {
    origin.unblock();
    rmSync(profile, { recursive: true, force: true });
  }
});

test('the server cuts every socket and the clients reconnect by themselves', async ({ browser, baseURL }) => {
  const ks = 'server-cut';
  const ctxA = await browser.newContext({ baseURL });
  const ctxB = await browser.newContext({ baseURL });
  try {
    const a = await open(ctxA, ks);
    const b = await open(ctxB, ks);
    await synced(a);
    await synced(b);
    const acceptedBefore = origin.accepted;
    origin.cut();
    // Written while the sockets are gone (or just coming back): delivered after the reconnect.
    await a.evaluate(() => window.np.tag('after-cut'));
    await expect.poll(() => b.evaluate(() => window.np.state().tags), { timeout: 30_000 }).toEqual(['after-cut']);
    await synced(a);
    expect(origin.accepted).toBeGreaterThanOrEqual(acceptedBefore + 2);
    const seen = (await a.evaluate(() => window.np.status())).statuses;
    expect(seen.lastIndexOf('synced')).toBeGreaterThan(seen.lastIndexOf('offline'));
    expect(seen).toContain('offline');
  } finally {
    await ctxA.close();
    await ctxB.close();
  }
});

test('two tabs share one replica and presence; the second takes over when the first closes', async ({ browser, baseURL }) => {
  const ks = 'tabs';
  const ctx = await browser.newContext({ baseURL });
  const other = await browser.newContext({ baseURL });
  try {
    const first = await open(ctx, ks);
    await synced(first);
    const second = await open(ctx, ks);
    expect((await first.evaluate(() => window.np.status())).tabRole).toBe('owner');
    expect((await second.evaluate(() => window.np.status())).tabRole).toBe('follower');
    await synced(second);
    await second.evaluate(() => window.np.increment(4));
    await first.evaluate(() => window.np.tag('from-first'));
    await expect.poll(() => first.evaluate(() => window.np.state().views)).toBe(4);
    await expect.poll(() => second.evaluate(() => window.np.state().tags)).toEqual(['from-first']);
    // Presence: the follower's goes through the owner's socket; a page of another context sees both.
    const watcher = await open(other, ks);
    await first.evaluate(() => window.np.present('first'));
    await second.evaluate(() => window.np.present('second'));
    await watcher.evaluate(() => window.np.present('watcher'));
    await expect.poll(() => second.evaluate(() => window.np.peers())).toEqual(['first', 'watcher']);
    await expect.poll(() => first.evaluate(() => window.np.peers())).toEqual(['second', 'watcher']);
    await expect.poll(() => watcher.evaluate(() => window.np.peers())).toEqual(['first', 'second']);

    // The owner makes a change (stored in its log, maybe not yet synced), then its tab closes.
    await first.evaluate(() => window.np.increment(1));
    await first.close();
    await expect.poll(() => second.evaluate(() => window.np.status().tabRole)).toBe('owner');
    await second.evaluate(() => window.np.append('after takeover'));
    await synced(second);
    await expect.poll(() => watcher.evaluate(() => window.np.peers())).toEqual(['second']);
    await expect.poll(() => second.evaluate(() => window.np.peers())).toEqual(['watcher']);
    await synced(watcher);
    await expect.poll(() => watcher.evaluate(() => window.np.state())).toEqual({ views: 5, tags: ['from-first'], notes: 'after takeover' });
  } finally {
    await ctx.close();
    await other.close();
  }
});
