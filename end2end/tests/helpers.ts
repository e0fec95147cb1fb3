import { expect, Page } from '@playwright/test';

export const ADMIN = { email: 'admin@comops.local', password: 'e2e-admin-password' };
export const VIEWER = { email: 'viewer@comops.local', password: 'e2e-viewer-password' };

/** Switches the studio's language and waits until the server has
 * remembered it on the user: a page loaded before that would still come
 * in the old language (a navigation right after the click raced it). */
export async function chooseLanguage(page: Page, lang: 'en' | 'ru') {
  const remembered = page.waitForResponse((r) => r.url().endsWith('/api/set_locale'));
  await page.locator(`[data-lang=${lang}]`).click();
  expect((await remembered).ok()).toBe(true);
}

/** Waits until the wasm bundle has hydrated the page (clicks now work). */
export async function hydrated(page: Page) {
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
}

export async function logIn(page: Page, who: { email: string; password: string }) {
  await page.goto('/login');
  await hydrated(page);
  await page.locator('input[name=email]').fill(who.email);
  await page.locator('input[name=password]').fill(who.password);
  await page.locator('button[type=submit]').click();
  await page.waitForURL('**/projects');
  await hydrated(page);
}
