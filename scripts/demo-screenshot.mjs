// Regenerates docs/demo.png from a running `npm start`: two browser windows edit the demo
// (names, text, to-dos), and one of them is captured.
//   node scripts/demo-screenshot.mjs [http://127.0.0.1:7100]
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from '@playwright/test';
import { ensureChromium } from './find-chromium.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const url = process.argv[2] ?? 'http://127.0.0.1:7100';
const browser = await chromium.launch({ executablePath: ensureChromium() });
try {
  const open = async (name) => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 }, deviceScaleFactor: 1 });
    const page = await ctx.newPage();
    await page.goto(url);
    await page.waitForSelector('body[data-ready="true"]');
    await page.getByLabel('Your name').fill(name);
    await page.getByLabel('Your name').press('Tab');
    return page;
  };
  const a = await open('Ada');
  const b = await open('Grace');
  await a.locator('#doc').click();
  const plan = 'Launch plan\n\n1. Freeze the API on Friday\n2. Write the migration guide\n3. ';
  await a.keyboard.type(plan);
  await b.locator('#doc').click();
  await b.waitForFunction((t) => document.querySelector('#doc').value === t, plan);
  await b.keyboard.press('Control+End');
  await b.keyboard.type('Demo at the all-hands (Grace)');
  await a.keyboard.press('Control+Home');
  await a.keyboard.press('End');
  for (const t of ['Review the release notes', 'Ask Grace about the edge regions', 'Book the demo room']) {
    await b.locator('#todo-input').fill(t);
    await b.keyboard.press('Enter');
  }
  await a.locator('#todos li').first().locator('.todo-done').check();
  await a.locator('#doc').click();
  await a.keyboard.press('Control+Home');
  await a.keyboard.press('End');
  await new Promise((r) => setTimeout(r, 4_000)); // a few chart samples
  await a.evaluate(() => window.scrollTo(0, 0));
  await a.screenshot({ path: join(root, 'docs', 'demo.png'), fullPage: true });
  console.log('docs/demo.png written');
} finally {
  await browser.close();
}
