// A Replica in real Chromium: edits are persisted in IndexedDB before they count, and a
// reload and a new page of the same origin find them.
import { expect, test } from '@playwright/test';

type Api = {
  increment(): Promise<number>;
  type(index: number, text: string): Promise<string>;
  state(): { views: number; notes: string; id: number };
};
declare global {
  interface Window {
    neuroplex: Api;
  }
}

test('edits survive a reload and a second page, from IndexedDB', async ({ page, context }, info) => {
  await page.goto('/replica.html');
  await expect(page.locator('#status[data-ready="true"]')).toBeVisible();
  await page.evaluate(() => window.neuroplex.increment());
  await page.evaluate(() => window.neuroplex.increment());
  await page.evaluate(() => window.neuroplex.type(0, 'Hello from Chromium'));
  const before = await page.evaluate(() => window.neuroplex.state());
  expect(before.views).toBe(2);

  await page.reload();
  await expect(page.locator('#status')).toHaveText('loaded from IndexedDB');
  const after = await page.evaluate(() => window.neuroplex.state());
  expect(after).toEqual(before);
  await expect(page.locator('#views')).toHaveText('2');
  await expect(page.locator('#notes')).toHaveValue('Hello from Chromium');

  const second = await context.newPage();
  await second.goto('/replica.html');
  await expect(second.locator('#status')).toHaveText('loaded from IndexedDB');
  expect((await second.evaluate(() => window.neuroplex.state())).notes).toBe('Hello from Chromium');
  await page.screenshot({ path: info.outputPath('replica-page.png') });
});
