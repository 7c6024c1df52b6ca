import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { chromium } from 'playwright-core';
import { createTestApp, listenOnLoopback, TestApp } from './helpers/app';
import { registerUser } from './helpers/users';

/**
 * A real browser on /docs: Debian's Chromium driven by playwright-core authorises Swagger
 * UI with an access token, runs GET /me and sees the caller. `.ci/run` installs chromium
 * when it is missing; on a machine without it the test says so and is skipped.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const present = existsSync(CHROMIUM);
if (!present)
  console.warn(`[browser] no Chromium at ${CHROMIUM}: the /docs browser test is skipped`);
const withBrowser = present ? it : it.skip;

describe('Swagger UI in a real browser', () => {
  let t: TestApp;
  let base: string;
  let browser: Browser | undefined;

  beforeAll(async () => {
    t = await createTestApp();
    ({ base } = await listenOnLoopback(t));
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  withBrowser(
    'authorises with a token, executes GET /me and shows the answer',
    async () => {
      const user = await registerUser(t, { name: 'Browser Tester' });
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--no-first-run',
        ],
      });
      const page = await browser.newPage();
      await page.goto(`${base}/docs`);
      await page.locator('button.authorize').first().click();
      await page.locator('.modal-ux input[type="text"]').first().fill(user.accessToken);
      await page.locator('.modal-ux button.authorize').first().click();
      await page.locator('.modal-ux button.btn-done').first().click();

      const operation = page.locator('#operations-me-getMe');
      await operation.locator('.opblock-summary').first().click();
      await operation.locator('button.try-out__btn').click();
      await operation.locator('button.execute').click();
      const status = operation.locator('.live-responses-table tbody .response-col_status').first();
      await status.waitFor({ timeout: 15_000 });
      expect((await status.innerText()).trim()).toBe('200');
      const body = await operation
        .locator('.live-responses-table tbody .microlight')
        .first()
        .innerText();
      expect(JSON.parse(body)).toMatchObject({
        user: { id: user.id, email: user.email, name: 'Browser Tester' },
        memberships: [],
      });
    },
    60_000,
  );
});
