// Presence in the demo: each window sees the other's caret, labelled with its name, move
// as the other types, and the list of people here (client.presence, from the presence
// work, merged).
import { expect, test } from '@playwright/test';
import { expectNoPageErrors, openDemo, sideBySide } from '../support/demo-page.ts';
import { useDemoStack } from '../support/demo-stack.ts';

const stack = useDemoStack();

test('each window sees the other\'s named caret, live', async ({ browser }, info) => {
  test.setTimeout(60_000);
  const [ca, cb] = [await browser.newContext(), await browser.newContext()];
  const [a, b] = [await ca.newPage(), await cb.newPage()];
  for (const [page, name] of [[a, 'Alice'], [b, 'Bob']] as const) {
    await openDemo(page, stack().url);
    await page.locator('#route').selectOption('origin');
    await page.getByLabel('Your name').fill(name);
    await page.getByLabel('Your name').press('Tab');
  }
  await a.locator('#doc').click();
  await a.keyboard.type('Hello there, Bob.');
  await expect(b.locator('#doc')).toHaveValue('Hello there, Bob.');
  await b.locator('#doc').click();
  await b.keyboard.press('End');

  // Carets are redrawn on every change: a box read mid-redraw is NaN and the poll retries.
  const bobInA = a.locator('#mirror .rcaret[data-peer="Bob"]');
  const bobX = async (): Promise<number> => (await bobInA.boundingBox().catch(() => null))?.x ?? Number.NaN;
  const settledX = async (): Promise<number> => {
    let x = Number.NaN;
    await expect.poll(async () => (x = await bobX()), { timeout: 5_000 }).not.toBeNaN();
    return x;
  };
  const aliceInB = b.locator('#mirror .rcaret[data-peer="Alice"]');
  await expect(bobInA).toBeVisible({ timeout: 10_000 });
  await expect(aliceInB).toBeVisible({ timeout: 10_000 });
  await expect(a.locator('#people')).toContainText('Bob');
  await expect(b.locator('#people')).toContainText('Alice');

  // Bob's caret moves to the start when he presses Home: Alice sees it move left. Each move
  // is waited for by the caret's offset first: an x read before Bob's End arrived would
  // measure from wherever his click put the caret.
  await expect(bobInA).toHaveAttribute('data-at', String('Hello there, Bob.'.length), { timeout: 5_000 });
  const xAtEnd = await settledX();
  await b.keyboard.press('Home');
  await expect(bobInA).toHaveAttribute('data-at', '0', { timeout: 5_000 });
  await expect.poll(async () => await bobX(), { timeout: 5_000 }).toBeLessThan(xAtEnd - 50);
  const xAtHome = await settledX();
  // Alice types at Bob's caret: Bob's caret stays where he put it (text typed exactly at a
  // caret goes after it, which keeps two people typing at one spot from interleaving), and
  // Alice's page shows it there.
  await a.keyboard.press('Home');
  await a.keyboard.type('>> ');
  await expect(b.locator('#doc')).toHaveValue('>> Hello there, Bob.');
  expect(await b.locator('#doc').evaluate((el: HTMLTextAreaElement) => el.selectionStart)).toBe(0);
  await expect.poll(async () => Math.abs((await bobX()) - xAtHome), { timeout: 5_000 }).toBeLessThan(2);
  // Bob moves to the end: Alice sees his caret after the last letter.
  await b.keyboard.press('End');
  await expect(bobInA).toHaveAttribute('data-at', String('>> Hello there, Bob.'.length), { timeout: 5_000 });
  await expect.poll(async () => await bobX(), { timeout: 5_000 }).toBeGreaterThan(xAtEnd);
  await sideBySide(browser, [a, b], info.outputPath('demo-presence.png'));

  // A window that leaves disappears from the other's page.
  expectNoPageErrors([a, b]);
  await cb.close();
  await expect(bobInA).toHaveCount(0, { timeout: 15_000 });
  expectNoPageErrors([a]);
  await ca.close();
});
