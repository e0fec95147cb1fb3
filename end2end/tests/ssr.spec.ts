// The server's HTML already holds what the studio's forms show: each
// main page is loaded twice, once with the wasm bundle refused (the page
// as the server rendered it) and once hydrated, and every text box,
// select and checkbox that shows something once hydrated must show the
// same before. A value set only as a property (`prop:value`) is not in
// the HTML: such a page loads blank and fills in a moment later, or
// never, when the bundle fails.
//
// Starts its own `comops serve --demo` (the shared server seeds the bots
// only; this needs the demo's maps and scenarios) and stops it afterwards.
import { test, expect, Page } from '@playwright/test';
import { OwnServer, startOwnServer } from './own-server';
import { hydrated, logIn } from './helpers';

const PORT = Number(process.env.COMOPS_E2E_SSR_PORT ?? 3423);
const BASE = `http://127.0.0.1:${PORT}`;
const ADMIN = { email: 'ssr-admin@comops.local', password: 'e2e-ssr-admin-password' };

test.use({ baseURL: BASE });

let own: OwnServer | undefined;

test.beforeAll(async () => {
  own = await startOwnServer({ name: 'ssr', port: PORT, users: [{ ...ADMIN, role: 'admin' }] });
});

test.afterAll(() => own?.stop());

/** Every form field in the page's main part: what identifies it, and what it shows. */
async function fields(page: Page): Promise<[string, string][]> {
  return page.evaluate(() =>
    [...document.querySelectorAll('main input, main textarea, main select')].map((e) => {
      const field = e as HTMLInputElement;
      const name = field.name || field.dataset.testid || field.dataset.field || field.getAttribute('aria-label') || field.tagName;
      return [name, field.type === 'checkbox' ? String(field.checked) : field.value] as [string, string];
    }),
  );
}

const PAGES = [
  '/projects',
  '/projects/prj_demo',
  '/endpoints',
  '/scenarios?bot=bot_shop&name=order_status',
  '/maps',
  '/maps/loop',
  '/maps/map_rehau',
  '/maps/map_registration-cjm',
  '/maps/map_onboarding-blueprint',
  '/maps/map_shop',
  '/maps/map_fmlst',
  '/maps/map_helpdesk',
  '/maps/map_integration-points',
  '/leads',
  '/traces',
  '/analytics',
  '/tokens',
  '/settings',
];

test('each main page\'s form fields are in the server\'s HTML, not only filled in once hydrated', async ({ page }) => {
  await logIn(page, ADMIN);
  let compared = 0;
  for (const path of PAGES) {
    await page.route(/\.wasm$/, (route) => route.abort());
    const response = await page.goto(path);
    expect(response?.status(), path).toBe(200);
    await expect(page.locator('main')).toBeVisible();
    // The page itself, not a "not found" in its place.
    await expect(page.locator('main'), path).not.toContainText(/not found/i);
    const served = await fields(page);
    await page.unroute(/\.wasm$/);
    await page.goto(path);
    await hydrated(page);
    // What the page shows once its data is in: the same fields as served.
    await expect.poll(async () => (await fields(page)).length, { message: path }).toBe(served.length);
    const shown = await fields(page);
    for (const [i, [name, value]] of shown.entries()) {
      if (!value || value === 'false') continue;
      expect(served[i], `${path}: ${name}`).toEqual([name, value]);
      compared++;
    }
  }
  // The check saw real values (the maps' cells, titles, settings).
  expect(compared).toBeGreaterThan(50);
});
