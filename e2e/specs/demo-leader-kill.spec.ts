// The origin leader is killed (SIGKILL, found by its own data dir) while two windows keep
// editing directly against the origin cluster: typing never stalls, the cluster panel
// shows the node down and a new leader, and everything converges.
import { expect, test } from '@playwright/test';
import { expectConverged, expectNoPageErrors, openDemo, sideBySide } from '../support/demo-page.ts';
import { agreedLeader, pidOfNode } from '../../test/support/local-cluster.ts';
import { useDemoStack } from '../support/demo-stack.ts';

const stack = useDemoStack();

test('killing the origin leader mid-edit: editing goes on and everything converges', async ({ browser }, info) => {
  test.setTimeout(90_000);
  const [ca, cb] = [await browser.newContext(), await browser.newContext()];
  const [a, b] = [await ca.newPage(), await cb.newPage()];
  await openDemo(a, stack().url);
  await a.locator('#route').selectOption('origin');
  await openDemo(b, stack().url);
  await b.locator('#route').selectOption('origin');
  await a.locator('#doc').click();
  await a.keyboard.type('Release checklist\n');
  await expectConverged([a, b]);
  await b.locator('#doc').click();
  await b.keyboard.press('Control+End');

  const leader = await agreedLeader(stack().origins);
  const pid = pidOfNode(stack().dataDir, leader.id);
  // Both keep typing while the leader dies; every keystroke must land at once, locally.
  const typing = async (page: typeof a, who: string): Promise<void> => {
    for (let i = 0; i < 8; i++) {
      const t0 = Date.now();
      await page.keyboard.type(`${who}${i} `, { delay: 15 });
      expect(Date.now() - t0, 'a few keystrokes never wait for the origin').toBeLessThan(5_000);
      if (who === 'A' && i === 2) process.kill(pid, 'SIGKILL');
    }
  };
  await Promise.all([typing(a, 'A'), typing(b, 'B')]);
  await b.locator('#todo-input').fill('Written while the leader was down');
  await b.keyboard.press('Enter');

  // The panel shows the dead node and the survivors' new leader.
  await expect(a.locator(`#nodes tr[data-role="down"]`)).toHaveCount(1, { timeout: 15_000 });
  await expect(a.locator('#nodes tr[data-role="leader"]')).toHaveCount(1, { timeout: 20_000 });
  const s = await expectConverged([a, b], 40_000);
  for (let i = 0; i < 8; i++) {
    expect(s.text).toContain(`A${i} `);
    expect(s.text).toContain(`B${i} `);
  }
  expect(s.todos.map((t) => t.title)).toEqual(['Written while the leader was down']);
  expect(s.views).toBe(2);
  const survivor = await agreedLeader(stack().origins.filter((o) => o !== leader.url));
  expect(survivor.id).not.toBe(leader.id);
  await sideBySide(browser, [a, b], info.outputPath('demo-leader-killed.png'));
  expectNoPageErrors([a, b]);
  await ca.close();
  await cb.close();
});
