import { expect, Page } from '@playwright/test';

export const ADMIN = { email: 'admin@comops.local', password: 'e2e-admin-password' };
export const VIEWER = { email: 'viewer@comops.local', password: 'e2e-viewer-password' };

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
