// The audit log (admins only): who changed what, read from the server a
// page at a time, newest first, filtered by who, area, subject and
// period, each action in the reader's language and each subject by its
// name; a user's row links to what they changed; a viewer is refused, in
// the studio and by the server.
import { test, expect } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { ADMIN, VIEWER, callServer, chooseLanguage, hydrated, logIn } from './helpers';

const call = callServer;

test('an admin reads who changed a user, page by page, in either language', async ({ page }) => {
  await logIn(page, ADMIN);
  const email = 'audit.subject@comops.local';
  expect((await call(page, '/api/users/create', { email, role: 'analyst', locale: 'en' })).status).toBe(200);
  const listed = await call(page, '/api/users/list', {});
  const id: string = listed.body.users.find((u: any) => u.user.email === email).user.id;
  // 55 role changes and the creation: two pages of 50.
  for (let n = 0; n < 55; n++) {
    expect((await call(page, '/api/users/role', { id, role: n % 2 ? 'analyst' : 'viewer' })).status).toBe(200);
  }

  await page.goto(`/audit?subject=${id}`);
  await hydrated(page);
  const filter = page.getByTestId('audit-filter');
  await expect(filter.locator('input[name=subject]')).toHaveValue(id);
  const rows = page.getByTestId('audit-row');
  await expect(rows).toHaveCount(50);
  await expect(rows.first()).toHaveAttribute('data-action', 'user.role');
  await expect(rows.first().getByTestId('audit-action')).toHaveText('User · role changed');
  await expect(rows.first().getByTestId('audit-detail')).toHaveText('viewer');
  await expect(rows.first().getByTestId('audit-actor')).toHaveText(ADMIN.email);
  await expect(rows.first().getByTestId('audit-subject-name')).toHaveText(email);
  await page.screenshot({ path: 'end2end/screenshots/audit.png', fullPage: true });

  await page.getByTestId('older').click();
  await expect(rows).toHaveCount(6);
  await expect(rows.last()).toHaveAttribute('data-action', 'user.create');
  await expect(rows.last().getByTestId('audit-detail')).toHaveText(`${email} as analyst`);
  await expect(page.getByTestId('older')).toHaveCount(0);
  // The filter and the page are in the address: a reload keeps them, Back
  // goes to the newer page, Forward to the older again.
  await expect(page).toHaveURL(new RegExp(`/audit\\?subject=${id}&before=\\d+-aud_`));
  await page.reload();
  await hydrated(page);
  await expect(rows).toHaveCount(6);
  await expect(filter.locator('input[name=subject]')).toHaveValue(id);
  await page.goBack();
  await expect(rows).toHaveCount(50);
  await expect(page.getByTestId('newest')).toHaveCount(0);
  await page.goForward();
  await expect(rows).toHaveCount(6);
  await page.getByTestId('newest').click();
  await expect(rows).toHaveCount(50);
  await expect(page).toHaveURL(new RegExp(`/audit\\?subject=${id}$`));

  // The filtered entries as a CSV file: a header and all 56, newest first.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('audit-export').click()]);
  expect(download.suggestedFilename()).toBe('comops-audit.csv');
  const csv = readFileSync(await download.path(), 'utf8').replace(/^\uFEFF/, '').trim().split('\r\n');
  expect(csv[0]).toBe('at_utc,at_ms,actor,action,subject,subject_name,detail');
  expect(csv).toHaveLength(57);
  expect(csv[1]).toContain(`,${ADMIN.email},user.role,${id},${email},viewer`);
  expect(csv[56]).toContain(`,user.create,${id},${email},${email} as analyst`);

  // Another area of the same subject: nothing.
  await filter.locator('select[name=area]').selectOption('token');
  await page.getByTestId('apply-filter').click();
  await expect(page.getByTestId('no-audit')).toBeVisible();
  await expect(page).toHaveURL(new RegExp(`/audit\\?area=token&subject=${id}$`));
  // Back shows the filter before, in the rows and in the fields.
  await page.goBack();
  await expect(rows).toHaveCount(50);
  await expect(filter.locator('select[name=area]')).toHaveValue('');
  await filter.locator('select[name=area]').selectOption('user');
  await page.getByTestId('apply-filter').click();
  await expect(rows).toHaveCount(50);

  // In Russian, the action is worded in Russian.
  await chooseLanguage(page, 'ru');
  await expect(rows.first().getByTestId('audit-action')).toHaveText('Пользователь · смена роли');
  await page.screenshot({ path: 'end2end/screenshots/audit-ru.png', fullPage: true });
  await chooseLanguage(page, 'en');

  // From the users page: what the admin changed (their own actions).
  await page.goto('/users');
  await hydrated(page);
  await page.locator(`[data-user="${ADMIN.email}"]`).getByTestId('user-audit').click();
  // In quotes: that user exactly, not every address holding theirs.
  await expect(page).toHaveURL(/\/audit\?actor=%22admin%40comops\.local%22$/);
  await hydrated(page);
  await expect(page.getByTestId('audit-filter').locator('input[name=actor]')).toHaveValue(`"${ADMIN.email}"`);
  await expect(rows.first().getByTestId('audit-actor')).toHaveText(ADMIN.email);
  for (const actor of await rows.getByTestId('audit-actor').allTextContents()) expect(actor).toBe(ADMIN.email);

  // Clicking a subject filters by it.
  await rows.first().getByTestId('audit-subject').click();
  await expect(page.getByTestId('audit-filter').locator('input[name=subject]')).toHaveValue(id);
  await expect(rows).toHaveCount(50);
  for (const subject of await rows.getByTestId('audit-subject').allTextContents()) expect(subject).toBe(id);
  // The sidebar's link to the log shows it whole again.
  await page.locator('[data-nav="/audit"]').click();
  await expect(page.getByTestId('audit-filter').locator('input[name=actor]')).toHaveValue('');
  await expect(page.getByTestId('audit-filter').locator('input[name=subject]')).toHaveValue('');
  // From the tokens page: who issued a token.
  const issued = await call(page, '/api/tokens/issue', {
    draft: { name: 'e2e audited token', bots: 'bot_shop', aliases: '', actions: ['call'], expires_in_days: 1, rate_per_minute: 0 },
  }, true);
  expect(issued.status).toBe(200);
  await page.goto('/tokens');
  await hydrated(page);
  await page.locator('[data-token="e2e audited token"]').getByTestId('token-audit').click();
  await expect(page).toHaveURL(/\/audit\?subject=tok_/);
  await expect(rows).toHaveCount(1);
  await expect(rows.first().getByTestId('audit-action')).toHaveText('Token · issued');
  await expect(rows.first().getByTestId('audit-subject-name')).toHaveText('e2e audited token');
});

test('a viewer may not read the audit log, in the studio or by calling the server', async ({ page }) => {
  await logIn(page, VIEWER);
  await expect(page.locator('[data-nav="/audit"]')).toHaveCount(0);
  await page.goto('/audit');
  await hydrated(page);
  await expect(page.getByTestId('audit-forbidden')).toContainText('Only admins');
  await expect(page.getByTestId('audit-table')).toHaveCount(0);
  expect((await call(page, '/api/audit/page', { 'query[actor]': '' })).status).toBe(403);
  expect((await call(page, '/api/audit/csv', { 'query[actor]': '' })).status).toBe(403);
});
