// Users and roles in the studio (admins only): create a user with a
// password shown once, change their role, disable them (their session
// ends), enable them with a new password; the last admin cannot demote
// themselves; a viewer sees no user list, and the server refuses it too.
import { test, expect } from '@playwright/test';
import { ADMIN, VIEWER, hydrated, logIn } from './helpers';

test('an admin creates a user, changes the role, disables and re-enables them with a new password', async ({ page, browser }) => {
  await logIn(page, ADMIN);
  await page.goto('/users');
  await hydrated(page);
  const me = page.locator(`[data-user="${ADMIN.email}"]`);
  await expect(me).toContainText('you');
  await expect(me.getByTestId('user-toggle')).toHaveCount(0);

  await page.getByTestId('new-user').click();
  const form = page.getByTestId('user-form');
  await form.locator('input[name=email]').fill('not an email');
  await form.locator('input[name=email]').press('Enter');
  await expect(form.locator('[data-error-for=email]')).toBeVisible();
  await form.locator('input[name=email]').fill('olga.analyst@comops.local');
  await form.locator('select[name=role]').selectOption('analyst');
  await form.locator('select[name=locale]').selectOption('ru');
  await form.locator('input[name=email]').press('Enter');
  const issued = page.getByTestId('user-password-issued');
  await expect(issued).toContainText('olga.analyst@comops.local');
  const password = await issued.getByTestId('user-password').inputValue();
  expect(password.length).toBeGreaterThanOrEqual(10);
  await page.screenshot({ path: 'end2end/screenshots/users.png', fullPage: true });
  await issued.getByTestId('user-password-done').click();
  await expect(issued).toHaveCount(0);

  const olga = page.locator('[data-user="olga.analyst@comops.local"]');
  await expect(olga.getByTestId('user-role')).toHaveValue('analyst');
  await expect(olga).toContainText('ru');

  // She signs in with it, in her own browser.
  const hers = await browser.newContext();
  const herPage = await hers.newPage();
  await logIn(herPage, { email: 'olga.analyst@comops.local', password });

  // A role change saves on change and stays after a reload.
  const saved = page.waitForResponse((r) => r.url().endsWith('/api/users/role'));
  await olga.getByTestId('user-role').selectOption('viewer');
  expect((await saved).ok()).toBe(true);
  await page.reload();
  await hydrated(page);
  await expect(olga.getByTestId('user-role')).toHaveValue('viewer');

  // The only admin cannot stop being one: refused, said, nothing changed.
  await me.getByTestId('user-role').selectOption('viewer');
  await expect(page.locator('[role=alert]', { hasText: 'no enabled admin would be left' })).toBeVisible();
  await expect(me.getByTestId('user-role')).toHaveValue('admin');

  // Disabled: her session ends.
  await olga.getByTestId('user-toggle').click();
  await expect(olga).toHaveAttribute('data-disabled', 'true');
  await expect(olga.getByTestId('user-status')).toHaveText('disabled');
  await herPage.goto('/maps');
  await expect(herPage).toHaveURL(/\/login/);

  // Enabled again with a new password: the old one no longer works.
  await olga.getByTestId('user-toggle').click();
  await expect(olga).toHaveAttribute('data-disabled', 'false');
  await olga.getByTestId('user-reset').click();
  await olga.getByTestId('user-reset-confirm').click();
  const fresh = await page.getByTestId('user-password').inputValue();
  expect(fresh).not.toBe(password);
  await herPage.goto('/login');
  await hydrated(herPage);
  await herPage.locator('input[name=email]').fill('olga.analyst@comops.local');
  await herPage.locator('input[name=password]').fill(password);
  await herPage.locator('button[type=submit]').click();
  await expect(herPage.getByTestId('login-error')).not.toBeEmpty();
  await logIn(herPage, { email: 'olga.analyst@comops.local', password: fresh });
  await hers.close();
});

test('a viewer may not manage users, in the studio or by calling the server', async ({ page }) => {
  await logIn(page, VIEWER);
  await page.goto('/users');
  await hydrated(page);
  await expect(page.getByTestId('users-forbidden')).toContainText('Only admins');
  await expect(page.getByTestId('users-table')).toHaveCount(0);
  const status = await page.evaluate(async () => (await fetch('/api/users/list', { method: 'POST' })).status);
  expect(status).toBe(403);
});
