// Helpers for driving the demo page from a spec: wait for it, read its state through the
// page's test hook (window.neuroplexDemo), and save two pages side by side as one PNG.
import { type Browser, expect, type Page } from '@playwright/test';

export interface DemoState {
  text: string;
  todos: { id: string; title: string; done: boolean }[];
  views: number;
  status: { status: string; unacknowledged: number };
}

declare global {
  interface Window {
    neuroplexDemo: {
      text(): string;
      todos(): DemoState['todos'];
      views(): number;
      status(): DemoState['status'];
    };
  }
}

const pageErrors = new WeakMap<Page, string[]>();

/**
 * Uncaught errors of a page and errors the client reported (`neuroplex:` on the console)
 * since openDemo: a spec ends by expecting none (a throw inside the client's sync loop once
 * hid behind a converging page).
 */
export function expectNoPageErrors(pages: readonly Page[]): void {
  for (const p of pages) expect(pageErrors.get(p) ?? [], `errors on ${p.url()}`).toEqual([]);
}

export async function openDemo(page: Page, url: string): Promise<void> {
  if (!pageErrors.has(page)) {
    const errors: string[] = [];
    pageErrors.set(page, errors);
    page.on('pageerror', (e) => errors.push(e.stack ?? e.message));
    page.on('console', (m) => {
      if (m.type() === 'error' && m.text().startsWith('neuroplex:')) errors.push(m.text());
    });
  }
  await page.goto(url);
  await expect(page.locator('body[data-ready="true"]')).toBeAttached({ timeout: 15_000 });
}

export async function stateOf(page: Page): Promise<DemoState> {
  return page.evaluate(() => {
    const d = window.neuroplexDemo;
    return { text: d.text(), todos: d.todos().map((t) => ({ id: t.id, title: t.title, done: t.done })), views: d.views(), status: d.status() };
  });
}

/** Waits until every page is synced with nothing unacknowledged and they show the same data. */
export async function expectConverged(pages: readonly Page[], timeoutMs = 20_000): Promise<DemoState> {
  let last: DemoState[] = [];
  await expect
    .poll(
      async () => {
        last = await Promise.all(pages.map(stateOf));
        const ok = last.every((s) => s.status.status === 'synced' && s.status.unacknowledged === 0);
        const same = last.every((s) => JSON.stringify({ ...s, status: null }) === JSON.stringify({ ...last[0]!, status: null }));
        return ok && same;
      },
      { timeout: timeoutMs, intervals: [100, 200, 400] },
    )
    .toBe(true)
    .catch((e: unknown) => {
      throw new Error(`pages did not converge: ${JSON.stringify(last, null, 1)}\n${String(e)}`);
    });
  // The textareas show what the replicas hold.
  for (const p of pages) await expect(p.locator('#doc')).toHaveValue(last[0]!.text);
  return last[0]!;
}

/** Both pages' screenshots side by side in one PNG at `path`. */
export async function sideBySide(browser: Browser, pages: readonly Page[], path: string): Promise<void> {
  const shots = await Promise.all(pages.map(async (p) => (await p.screenshot()).toString('base64')));
  const ctx = await browser.newContext({ viewport: { width: 1280 * pages.length + 24 * (pages.length - 1), height: 800 } });
  const page = await ctx.newPage();
  await page.setContent(
    `<body style="margin:0;display:flex;gap:24px;background:#1f2937">${shots.map((s) => `<img src="data:image/png;base64,${s}" style="width:1280px;height:800px">`).join('')}</body>`,
  );
  await page.screenshot({ path, fullPage: true });
  await ctx.close();
}

/**
 * Offline: waits until every local change is in IndexedDB (the `pending` store holds as
 * many changes as the client has unacknowledged), so a reload cannot race the last write.
 */
export async function waitStored(page: Page): Promise<void> {
  await expect
    .poll(
      () =>
        page.evaluate(async () => {
          const db = await new Promise<IDBDatabase>((resolve, reject) => {
            const r = indexedDB.open('neuroplex');
            r.onsuccess = () => resolve(r.result);
            r.onerror = () => reject(r.error);
          });
          const count = await new Promise<number>((resolve, reject) => {
            const r = db.transaction('pending').objectStore('pending').count();
            r.onsuccess = () => resolve(r.result);
            r.onerror = () => reject(r.error);
          });
          db.close();
          return count === window.neuroplexDemo.status().unacknowledged;
        }),
      { timeout: 5_000 },
    )
    .toBe(true);
}
