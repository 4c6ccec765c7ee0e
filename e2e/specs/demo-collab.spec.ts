// Two people type into the same place of the demo's document at the same time (direct to
// the origin cluster): both end with identical text, neither's letters interleave, and
// each sees the other's caret.
import { expect, test } from '@playwright/test';
import { expectConverged, expectNoPageErrors, openDemo, sideBySide } from '../support/demo-page.ts';
import { useDemoStack } from '../support/demo-stack.ts';

const stack = useDemoStack();

test('two windows type at the same spot at once: same text, no interleaving', async ({ browser }, info) => {
  test.setTimeout(60_000);
  const [ca, cb] = [await browser.newContext(), await browser.newContext()];
  const [a, b] = [await ca.newPage(), await cb.newPage()];
  await openDemo(a, stack().url);
  await openDemo(b, stack().url);
  await a.locator('#route').selectOption('origin');
  await b.locator('#route').selectOption('origin');
  await a.locator('#doc').click();
  await a.keyboard.type('Meeting notes: ');
  await expect(b.locator('#doc')).toHaveValue('Meeting notes: ');
  await b.locator('#doc').click();
  await b.keyboard.press('End');
  await a.keyboard.press('End');

  const aText = 'alice types here';
  const bText = 'BOB TYPES THERE';
  await Promise.all([a.keyboard.type(aText, { delay: 25 }), b.keyboard.type(bText, { delay: 25 })]);
  const s = await expectConverged([a, b]);
  expect(s.text.startsWith('Meeting notes: ')).toBe(true);
  expect(s.text.length).toBe('Meeting notes: '.length + aText.length + bText.length);
  // Each run of letters arrives whole: no interleaving.
  expect(s.text).toContain(aText);
  expect(s.text).toContain(bText);
  // Each sees the other's caret (presence), at the end of the other's run of letters.
  await expect(a.locator('#mirror .rcaret')).toHaveCount(1, { timeout: 10_000 });
  await expect(b.locator('#mirror .rcaret')).toHaveCount(1, { timeout: 10_000 });

  // A line added by each, and a to-do: the page looks like something in use.
  await a.keyboard.type('\nAlice: check the cluster panel');
  await b.locator('#todo-input').fill('Try going offline');
  await b.keyboard.press('Enter');
  await a.locator('#todo-input').fill('Stop the leader node');
  await a.keyboard.press('Enter');
  await expectConverged([a, b]);
  await expect(a.locator('#nodes tr[data-role="leader"]')).toHaveCount(1);
  await b.locator('#doc').click();
  await sideBySide(browser, [a, b], info.outputPath('demo-two-windows.png'));
  expectNoPageErrors([a, b]);
  await ca.close();
  await cb.close();
});
