// The analytics screen on real runs: a CRM (a token from the real CLI)
// reports two paid orders to the demo shop bot; the viewer opens
// /analytics, sees SPEC §8's cards, the funnel and the step heatmap for the
// bot, narrows the scope to one endpoint (the URL keeps it), finds nothing
// for another, and has the figures as a CSV link. In Russian too.
//
// Starts its own `comops serve --demo` (the shared server has no
// endpoints) and stops that process afterwards.
import { test, expect, Page } from '@playwright/test';
import { OwnServer, startOwnServer } from './own-server';
import { chooseLanguage, hydrated } from './helpers';

const PORT = Number(process.env.COMOPS_E2E_ANALYTICS_PORT ?? 3421);
const BASE = `http://127.0.0.1:${PORT}`;
const VIEWER = { email: 'viewer@comops.local', password: 'e2e-viewer-password' };

test.describe.configure({ mode: 'serial' });
test.use({ baseURL: BASE });

let own: OwnServer | undefined;
let token = '';

test.beforeAll(async () => {
  own = await startOwnServer({ name: 'analytics', port: PORT, users: [{ ...VIEWER, role: 'viewer' }], tokens: [{ name: 'Shop CRM', bots: 'bot_shop', actions: 'call,admin_write' }] });
  token = own.tokens[0];
  expect(token).not.toBe('');
});

test.afterAll(() => own?.stop());

async function api(path: string, body: unknown) {
  const response = await fetch(`${BASE}${path}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status, await response.clone().text()).toBe(200);
}

async function logIn(page: Page) {
  await page.goto('/login');
  await hydrated(page);
  await page.locator('input[name=email]').fill(VIEWER.email);
  await page.locator('input[name=password]').fill(VIEWER.password);
  await page.locator('button[type=submit]').click();
  await page.waitForURL('**/projects');
}

test('a viewer reads the shop bot analytics and narrows them to one endpoint', async ({ page }) => {
  for (const [user, order] of [[54321, 9821], [54322, 9822]]) {
    await api('/bots/bot_shop/identities', { userId: user, channel: 'telegram', chatId: user });
    await api('/bots/bot_shop/call/order/thank-you', { order_id: order, user_id: String(user), amount: 3500, status: 'paid' });
  }
  await logIn(page);

  // Runs are saved by the engine right after the calls; reload until both count.
  await expect(async () => {
    await page.goto('/analytics?bot=bot_shop');
    await expect(page.getByTestId('funnel-event')).toHaveAttribute('data-count', '2', { timeout: 1000 });
  }).toPass({ timeout: 15_000 });
  await hydrated(page);
  await expect(page.getByTestId('metric-conversion').getByTestId('metric-basis')).toHaveText('2 / 2');
  await expect(page.getByTestId('metric-conversion').getByTestId('metric-value')).toHaveText('100.0 %');
  await expect(page.getByTestId('funnel-action')).toHaveAttribute('data-count', '2');
  await expect(page.getByTestId('heatmap').locator('[data-step^="order_thank_you/"]').first()).toBeVisible();
  await expect(page.getByTestId('analytics-endpoints').locator('[data-alias="order/thank-you"]')).toContainText('100.0 %');
  const csv = await page.getByTestId('analytics-csv').getAttribute('href');
  expect(decodeURIComponent(csv ?? '')).toContain('total,conversion_rate,2,2,1.0000');
  await page.screenshot({ path: 'end2end/screenshots/analytics.png', fullPage: true });

  // One endpoint: the same runs; the URL keeps the scope.
  await page.getByTestId('analytics-scope').selectOption('endpoint:order/thank-you');
  await page.getByTestId('analytics-show').click();
  await page.waitForURL(/of=endpoint%3Aorder%2Fthank-you/);
  await expect(page.getByTestId('funnel-event')).toHaveAttribute('data-count', '2');
  // Another endpoint: nothing yet, said plainly.
  await page.getByTestId('analytics-scope').selectOption('endpoint:order/status');
  await page.getByTestId('analytics-show').click();
  await page.waitForURL(/of=endpoint%3Aorder%2Fstatus/);
  await expect(page.getByTestId('analytics-empty')).toBeVisible();
  await expect(page.getByTestId('metric-conversion').getByTestId('metric-value')).toHaveText('—');

  // A date that does not exist is a readable error, not a blank page.
  await page.goto('/analytics?bot=bot_shop&from=2026-02-30');
  await expect(page.getByTestId('analytics-error')).toBeVisible();
  // Dates the wrong way round: said in words, with a way back to a period.
  await page.goto('/analytics?bot=bot_shop&from=2026-12-10&to=2026-12-01');
  await expect(page.getByTestId('analytics-error')).toContainText('“From” must be on or before “To”');
  await page.getByTestId('analytics-reset').click();
  await expect(page.getByTestId('analytics-filter')).toBeVisible();
});

test('the analytics screen speaks Russian', async ({ page }) => {
  await logIn(page);
  await page.goto('/analytics?bot=bot_shop');
  await hydrated(page);
  await chooseLanguage(page, 'ru');
  await expect(page.locator('html')).toHaveAttribute('lang', 'ru');
  await expect(page.getByTestId('metric-delivery')).toContainText('Доставляемость');
  // Rates with a decimal comma.
  await expect(page.getByTestId('metric-conversion').getByTestId('metric-value')).toHaveText(/^\d+,\d %$/);
  await expect(page.getByTestId('analytics-endpoints').locator('[data-alias="order/thank-you"]')).toContainText('100,0 %');
  await expect(page.getByTestId('funnel-chart')).toContainText('Событие');
  // The trace log's statuses too (the calls above were traced), in the
  // table and in the filter.
  await page.goto('/traces');
  await hydrated(page);
  await expect(page.getByTestId('traces-table').locator('tr[data-status=success] [data-testid=trace-status]').first()).toHaveText('успех');
  await expect(page.getByTestId('trace-filter').locator('option[value=fail]')).toHaveText('сбой');
  // So are the server's own words in the details ("accepted; scenario …"),
  // while a refused call's message stays as the caller got it.
  await expect(page.getByTestId('trace-detail').filter({ hasText: 'принят; сценарий' }).first()).toBeVisible();
  await expect(page.getByTestId('trace-detail').filter({ hasText: /^accepted; / })).toHaveCount(0);
  // Every column fits the page in Russian too: the detail is not cut off.
  const detail = page.getByTestId('traces-table').locator('tbody tr').first().locator('td').last();
  const box = await detail.boundingBox();
  expect(box!.x + box!.width).toBeLessThanOrEqual(page.viewportSize()!.width);
  await page.screenshot({ path: 'end2end/screenshots/traces-ru.png', fullPage: true });
  await page.goto('/analytics?bot=bot_shop');
  await hydrated(page);
  await chooseLanguage(page, 'en');
  await expect(page.getByTestId('metric-delivery')).toContainText('Delivery rate');
});
