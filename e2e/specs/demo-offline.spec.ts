// Offline through the edge: two windows on two edge regions (each its own Durable Object,
// joined through the origin; presence crosses them too). One goes offline (network and
// the app's switch), both edit the text and the to-dos, the offline one reloads (the
// service worker serves the page, IndexedDB the data) and comes back: everything
// converges, every page view counted.
import { expect, test } from '@playwright/test';
import { expectConverged, expectNoPageErrors, openDemo, sideBySide, stateOf, waitStored } from '../support/demo-page.ts';
import { useDemoStack } from '../support/demo-stack.ts';

const stack = useDemoStack({ edge: true });

test('offline edits and an offline reload converge through the edge; every view counted', async ({ browser }, info) => {
  test.setTimeout(90_000);
  const [ca, cb] = [await browser.newContext(), await browser.newContext()];
  const [a, b] = [await ca.newPage(), await cb.newPage()];
  await openDemo(a, stack().url);
  await a.locator('#route').selectOption('edge:eu-west');
  await openDemo(b, stack().url);
  await b.locator('#route').selectOption('edge:us-east');
  await expect(b.locator('body[data-sw="ready"]')).toBeAttached({ timeout: 15_000 });
  await a.locator('#doc').click();
  await a.keyboard.type('Plan for the week\n');
  await a.locator('#todo-input').fill('Book the room');
  await a.keyboard.press('Enter');
  await expectConverged([a, b], 30_000);
  // Presence crosses regions too (edge → origin → edge): A sees B's caret.
  await b.locator('#doc').click();
  await expect(a.locator('#mirror .rcaret')).toHaveCount(1, { timeout: 15_000 });

  // B goes offline: the network and the app's switch.
  await cb.setOffline(true);
  await b.getByLabel('Go offline').check();
  await expect(b.locator('#status')).toHaveAttribute('data-status', 'offline');

  await a.locator('#doc').press('Control+End');
  await a.keyboard.type('- online line from A\n');
  await a.locator('#todo-input').fill('Online to-do from A');
  await a.keyboard.press('Enter');
  await a.locator('#todos li', { hasText: '' }).first().locator('.todo-done').check();

  await b.locator('#doc').click();
  await b.keyboard.press('Control+End');
  await b.keyboard.type('- offline line from B\n');
  await b.locator('#todo-input').fill('Offline to-do from B');
  await b.keyboard.press('Enter');
  const rename = b.locator('#todos li').first().locator('.todo-title');
  await rename.fill('Book the big room');
  await rename.press('Enter');
  await expect.poll(async () => (await stateOf(b)).status.unacknowledged).toBeGreaterThan(0);

  // Reload while offline: the page comes from the service worker, the data from IndexedDB.
  await sideBySide(browser, [a, b], info.outputPath('demo-one-offline.png'));
  await waitStored(b);
  const before = await stateOf(b);
  await b.reload();
  await expect(b.locator('body[data-ready="true"]')).toBeAttached({ timeout: 15_000 });
  expect(await b.evaluate(() => navigator.serviceWorker.controller !== null), 'the offline page is served by the service worker').toBe(true);
  const after = await stateOf(b);
  expect(after.text).toBe(before.text);
  expect(after.todos).toEqual(before.todos);
  expect(after.views).toBe(before.views + 1);
  await expect(b.locator('#status')).toHaveAttribute('data-status', 'offline');
  await b.locator('#doc').click();
  await b.keyboard.press('Control+End');
  await b.keyboard.type('- typed after the offline reload\n');
  await a.reload();
  await expect(a.locator('body[data-ready="true"]')).toBeAttached({ timeout: 15_000 });

  // Back online: everything converges, and all 4 page loads (2 each) are counted.
  await cb.setOffline(false);
  await b.getByLabel('Go offline').uncheck();
  const s = await expectConverged([a, b], 40_000);
  for (const line of ['Plan for the week', '- online line from A', '- offline line from B', '- typed after the offline reload']) expect(s.text).toContain(line);
  expect(s.todos.map((t) => t.title).sort()).toEqual(['Book the big room', 'Offline to-do from B', 'Online to-do from A']);
  expect(s.todos.find((t) => t.title === 'Book the big room')?.done).toBe(true);
  expect(s.views).toBe(4);
  await sideBySide(browser, [a, b], info.outputPath('demo-after-offline.png'));
  expectNoPageErrors([a, b]);
  await ca.close();
  await cb.close();
});
