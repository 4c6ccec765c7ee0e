// Presence in the demo: each window sees the other's caret, labelled with its name, move
// as the other types, and the list of people here (client.presence, from the presence
// work, merged).
import { expect, test } from '@playwright/test';
import { openDemo, sideBySide } from '../support/demo-page.ts';
import { type DemoStack, startDemoStack } from '../support/demo-stack.ts';

let stack: DemoStack | undefined;

test.beforeAll(async () => {
  stack = await startDemoStack();
});

test.afterAll(async () => {
  await stack?.stop();
});

test.use({ viewport: { width: 1280, height: 800 } });

test('each window sees the other\'s named caret, live', async ({ browser }, info) => {
  test.setTimeout(60_000);
  const [ca, cb] = [await browser.newContext(), await browser.newContext()];
  const [a, b] = [await ca.newPage(), await cb.newPage()];
  for (const [page, name] of [[a, 'Alice'], [b, 'Bob']] as const) {
    await openDemo(page, stack!.url);
    await page.locator('#route').selectOption('origin');
    await page.getByLabel('Your name').fill(name);
    await page.getByLabel('Your name').press('Tab');
  }
  await a.locator('#doc').click();
  await a.keyboard.type('Hello there, Bob.');
  await expect(b.locator('#doc')).toHaveValue('Hello there, Bob.');
  await b.locator('#doc').click();
  await b.keyboard.press('End');

  const bobInA = a.locator('#mirror .rcaret[data-peer="Bob"]');
  const aliceInB = b.locator('#mirror .rcaret[data-peer="Alice"]');
  await expect(bobInA).toBeVisible({ timeout: 10_000 });
  await expect(aliceInB).toBeVisible({ timeout: 10_000 });
  await expect(a.locator('#people')).toContainText('Bob');
  await expect(b.locator('#people')).toContainText('Alice');

  // Bob's caret moves to the start when he presses Home: Alice sees it move left.
  const xAtEnd = (await bobInA.boundingBox())!.x;
  await b.keyboard.press('Home');
  await expect.poll(async () => (await bobInA.boundingBox())!.x, { timeout: 5_000 }).toBeLessThan(xAtEnd - 50);
  const xAtHome = (await bobInA.boundingBox())!.x;
  // Alice types at Bob's caret: Bob's caret stays where he put it (text typed exactly at a
  // caret goes after it, which keeps two people typing at one spot from interleaving), and
  // Alice's page shows it there.
  await a.keyboard.press('Home');
  await a.keyboard.type('>> ');
  await expect(b.locator('#doc')).toHaveValue('>> Hello there, Bob.');
  expect(await b.locator('#doc').evaluate((el: HTMLTextAreaElement) => el.selectionStart)).toBe(0);
  await expect.poll(async () => Math.abs((await bobInA.boundingBox())!.x - xAtHome), { timeout: 5_000 }).toBeLessThan(2);
  // Bob moves to the end: Alice sees his caret after the last letter.
  await b.keyboard.press('End');
  await expect.poll(async () => (await bobInA.boundingBox())!.x, { timeout: 5_000 }).toBeGreaterThan(xAtEnd);
  await sideBySide(browser, [a, b], info.outputPath('demo-presence.png'));

  // A window that leaves disappears from the other's page.
  await cb.close();
  await expect(bobInA).toHaveCount(0, { timeout: 15_000 });
  await ca.close();
});
