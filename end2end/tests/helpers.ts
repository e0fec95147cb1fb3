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

/** Calls a server function from the page (its session and cookies): its
 * arguments form-encoded (the default encoding; nested fields as
 * `query[actor]`), or as JSON for those taking JSON; returns status and
 * answer. */
export async function callServer(page: Page, path: string, args: Record<string, unknown>, json = false): Promise<{ status: number; body: any }> {
  return page.evaluate(
    async ({ path, args, json }) => {
      const body = json ? JSON.stringify(args) : new URLSearchParams(args as Record<string, string>).toString();
      const type = json ? 'application/json' : 'application/x-www-form-urlencoded';
      const response = await fetch(path, { method: 'POST', headers: { 'Content-Type': type }, body });
      return { status: response.status, body: await response.json() };
    },
    { path, args, json },
  );
}

/** Presses the pointer on `from`, moves in steps to `to` (page pixels), releases; with `shift`, Shift held throughout. */
export async function drag(page: Page, from: { x: number; y: number }, to: { x: number; y: number }, shift = false) {
  if (shift) await page.keyboard.down('Shift');
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move(to.x, to.y, { steps: 8 });
  await page.mouse.up();
  if (shift) await page.keyboard.up('Shift');
}
