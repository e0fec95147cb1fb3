// The foundation's browser journeys: log in, create a project, switch the
// language, log out; a wrong password; a viewer who may not create.
import { test, expect } from '@playwright/test';
import { ADMIN, VIEWER, chooseLanguage, hydrated, logIn } from './helpers';

test('admin logs in, creates a project, switches language and logs out', async ({ page }) => {
  await logIn(page, ADMIN);
  await expect(page.getByRole('heading', { name: 'Projects' })).toBeVisible();
  await expect(page.locator('[data-project=demo]')).toContainText('ComOps demo');

  await page.getByTestId('new-project').click();
  const form = page.getByTestId('project-form');
  await form.locator('input[name=name]').fill('REHAU Installers');
  await form.locator('input[name=slug]').fill('Bad Slug');
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(form.locator('[data-error-for=slug]')).toHaveText("Use lowercase letters, digits, '-' and '_'.");

  await form.locator('input[name=slug]').fill('');
  await form.getByRole('button', { name: 'Create' }).click();
  const row = page.locator('[data-project=rehau-installers]');
  await expect(row).toContainText('REHAU Installers');
  await expect(form).toBeHidden();

  // Edit in place, keyboard only: Enter saves.
  await row.getByTestId('edit').click();
  await row.locator('input[name=name]').fill('REHAU монтажники');
  await row.locator('input[name=name]').press('Enter');
  await expect(page.locator('[data-project=rehau-installers]')).toContainText('REHAU монтажники');
  await page.screenshot({ path: 'end2end/screenshots/projects.png', fullPage: true });
  // The filter box keeps the projects whose name, slug or description has the text.
  await page.getByTestId('project-filter').fill('монтажн');
  await expect(page.locator('[data-project=demo]')).toBeHidden();
  await expect(page.locator('[data-project=rehau-installers]')).toBeVisible();
  await page.getByTestId('project-filter').fill('');
  await expect(page.locator('[data-project=demo]')).toBeVisible();

  await chooseLanguage(page, 'ru');
  await expect(page.getByRole('heading', { name: 'Проекты' })).toBeVisible();
  await expect(page.locator('html')).toHaveAttribute('lang', 'ru');
  await expect(page.locator('[data-nav="/maps"]')).toHaveText('Карты');
  // Remembered on the user: a reload renders Russian on the server.
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId('logout')).toHaveText('Выйти');

  await chooseLanguage(page, 'en');
  await expect(page.getByTestId('logout')).toHaveText('Log out');
  await page.getByTestId('logout').click();
  await page.waitForURL('**/login');
  await page.goto('/projects');
  await expect(page).toHaveURL(/\/login\?next=\/projects/);
});

test('a wrong password shows an error and logs nobody in', async ({ page }) => {
  await page.goto('/login');
  await hydrated(page);
  await page.locator('input[name=email]').fill(ADMIN.email);
  await page.locator('input[name=password]').fill('not-the-password');
  await page.locator('button[type=submit]').click();
  await expect(page.getByTestId('login-error')).toHaveText('Wrong email or password.');
  await expect(page).toHaveURL(/\/login/);
});

test('a viewer sees projects but can create none, in the UI or by calling the server', async ({ page }) => {
  await logIn(page, VIEWER);
  await expect(page.locator('[data-project=demo]')).toBeVisible();
  await expect(page.getByTestId('new-project')).toHaveCount(0);
  await expect(page.getByTestId('read-only')).toBeVisible();
  await expect(page.getByTestId('current-role')).toHaveText('viewer');
  // The admins' sections are not offered (their pages would only say so).
  await expect(page.locator('[data-nav="/maps"]')).toBeVisible();
  for (const path of ['/tokens', '/users', '/settings']) await expect(page.locator(`[data-nav="${path}"]`)).toHaveCount(0);

  // The server function refuses too, even when called directly.
  const result = await page.evaluate(async () => {
    const response = await fetch('/api/projects/create', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'draft[name]=Sneaky&draft[slug]=sneaky&draft[description]=',
    });
    return { status: response.status, body: await response.text() };
  });
  expect(result.status).toBe(403);
  expect(result.body).toContain('Forbidden');
  await page.reload();
  await expect(page.locator('[data-project=sneaky]')).toHaveCount(0);
});

test('a project page lists its bots and creates one in place', async ({ page }) => {
  await logIn(page, ADMIN);
  await page.locator('[data-project=demo] a').click();
  await expect(page.getByTestId('project-name')).toHaveText('ComOps demo');
  await hydrated(page);
  await expect(page.locator('[data-bot=bot_shop]')).toContainText('@comops_shop_bot');

  await page.getByTestId('new-bot').click();
  const form = page.getByTestId('bot-form');
  await form.locator('input[name=name]').fill('Webinars');
  await form.locator('input[name=username]').fill('webinars');
  await form.locator('input[name=name]').press('Enter');
  await expect(form.locator('[data-error-for=username]')).toContainText("ending in 'bot'");
  await form.locator('input[name=username]').fill('rehau_webinar_bot');
  // An id of one's own: refused in words when it is not one, then taken
  // as given (digits: called as /bots/<digits>/…). Unique per attempt.
  await form.locator('input[name=id]').fill('Webinars 1');
  await form.locator('input[name=name]').press('Enter');
  await expect(form.locator('[data-error-for=id]')).toHaveText("1–40 lowercase letters, digits or '-' (after bot_).");
  const digits = String(Date.now() % 1_000_000_000);
  await form.locator('input[name=id]').fill(digits);
  await form.locator('input[name=name]').press('Enter');
  await expect(page.getByTestId('bots-table')).toContainText('@rehau_webinar_bot');
  await expect(page.locator(`[data-bot=bot_${digits}]`)).toContainText('Webinars');
  await expect(form).toBeHidden();
  await page.screenshot({ path: 'end2end/screenshots/project.png', fullPage: true });
  // The filter box keeps the bots whose name, id, username or description has the text.
  await page.getByTestId('bot-filter').fill('WEBINAR');
  await expect(page.locator('[data-bot=bot_shop]')).toBeHidden();
  await expect(page.getByTestId('bots-table')).toContainText('@rehau_webinar_bot');
  await page.getByTestId('bot-filter').fill('');
  await expect(page.locator('[data-bot=bot_shop]')).toBeVisible();
});

test('the navigation opens the pages that load on demand without a reload', async ({ page }) => {
  await logIn(page, ADMIN);
  // A full page load would drop this marker: each click below must be a
  // client-side navigation that fetches the page's wasm chunks first.
  await page.evaluate(() => { (window as unknown as { stayed: boolean }).stayed = true; });
  for (const [path, heading] of [['/analytics', 'Analytics'], ['/leads', 'Leads'], ['/endpoints', 'Endpoints'], ['/scenarios', 'Scenarios']]) {
    await page.locator(`[data-nav="${path}"]`).click();
    await page.waitForURL(`**${path}`);
    await expect(page.getByRole('heading', { name: heading, exact: true })).toBeVisible();
  }
  expect(await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);
});

test('lazy chunks carry their build hash and are cached for good; the main module is revalidated', async ({ page, request }) => {
  const fetched: string[] = [];
  page.on('request', (r) => { if (r.url().endsWith('.wasm')) fetched.push(new URL(r.url()).pathname); });
  await logIn(page, ADMIN);
  await page.locator('[data-nav="/leads"]').click();
  await page.waitForURL('**/leads');
  await expect(page.getByRole('heading', { name: 'Leads', exact: true })).toBeVisible();
  const chunks = fetched.filter((p) => !p.endsWith('/comops_bg.wasm'));
  expect(chunks.length).toBeGreaterThan(0);
  for (const chunk of chunks) expect(chunk).toMatch(/^\/pkg\/[A-Za-z0-9_]+\.[0-9a-f]{10}\.wasm$/);
  const chunk = await request.get(chunks[0]);
  expect(chunk.status()).toBe(200);
  expect(chunk.headers()['cache-control']).toBe('public, max-age=31536000, immutable');
  const main = await request.get('/pkg/comops.js');
  expect(main.headers()['cache-control']).toBe('no-cache');
  // A name of another build is simply not there.
  expect((await request.get(chunks[0].replace(/\.[0-9a-f]{10}\.wasm$/, '.0000000000.wasm'))).status()).toBe(404);
});

test('the bundle goes out as its brotli or gzip copy, the pages and the studio\'s JSON gzipped, to a browser that accepts them; the stylesheet is asked for before the bundle', async ({ page, request }) => {
  // How the browser's first loads of the bundle came (later ones may be
  // revalidated: a 304 without a body). Chromium asks for brotli from
  // localhost (and over HTTPS) and gets the build's brotli copy.
  const encodings = new Map<string, string>();
  const pages: string[] = [];
  page.on('response', (r) => {
    if (r.request().resourceType() === 'document') pages.push(r.headers()['content-encoding'] ?? 'none');
    const path = new URL(r.url()).pathname;
    if (/^\/pkg\/(comops_bg\.wasm|comops\.js|comops\.css)$/.test(path) && r.status() === 200 && !encodings.has(path)) {
      encodings.set(path, r.headers()['content-encoding'] ?? 'none');
    }
  });
  await logIn(page, ADMIN);
  expect(Object.fromEntries(encodings)).toEqual({ '/pkg/comops.css': 'br', '/pkg/comops.js': 'br', '/pkg/comops_bg.wasm': 'br' });
  // The pages too (streamed, each part flushed).
  expect(pages.length).toBeGreaterThan(0);
  expect(pages.every((e) => e === 'gzip'), pages.join(', ')).toBe(true);
  const login = await request.get('/login', { headers: { 'Accept-Encoding': 'gzip' } });
  expect(login.headers()['content-encoding']).toBe('gzip');
  expect(await login.text()).toContain('<html');
  const plainLogin = await request.get('/login', { headers: { 'Accept-Encoding': 'identity' } });
  expect(plainLogin.headers()['content-encoding']).toBeUndefined();
  expect(await plainLogin.text()).toContain('<html');
  // The same bytes whichever copy: brotli where accepted (even listed
  // after gzip), gzip where brotli is not, and each smaller than the last.
  for (const path of ['/pkg/comops_bg.wasm', '/pkg/comops.css']) {
    const plain = await request.get(path, { headers: { 'Accept-Encoding': 'identity' } });
    expect(plain.headers()['content-encoding']).toBeUndefined();
    let bytes = (await plain.body()).length;
    for (const [accepted, sent, share] of [['gzip', 'gzip', 0.5], ['gzip, deflate, br', 'br', 0.9]] as const) {
      const copy = await request.get(path, { headers: { 'Accept-Encoding': accepted } });
      expect(copy.headers()['content-encoding'], `${path} for ${accepted}`).toBe(sent);
      // A shared cache keeps one copy per encoding asked for.
      expect(copy.headers()['vary'], `${path} for ${accepted}`).toContain('accept-encoding');
      expect(Buffer.compare(await copy.body(), await plain.body()), `${path} for ${accepted}`).toBe(0);
      const length = Number(copy.headers()['content-length']);
      expect(length, `${path}: ${sent} bytes`).toBeLessThan(bytes * share);
      bytes = length;
    }
  }
  // The studio's JSON answers too, from 1 kB (the analytics page's report,
  // opened inside the app); smaller ones as they are.
  const answers: { path: string; encoding: string; bytes: number }[] = [];
  page.on('response', async (r) => {
    if (!new URL(r.url()).pathname.startsWith('/api/') || r.status() !== 200) return;
    answers.push({ path: new URL(r.url()).pathname, encoding: r.headers()['content-encoding'] ?? 'none', bytes: (await r.body()).length });
  });
  for (const [path, heading] of [['/analytics', 'Analytics'], ['/endpoints', 'Endpoints']]) {
    await page.locator(`[data-nav="${path}"]`).click();
    await page.waitForURL(`**${path}`);
    await expect(page.getByRole('heading', { name: heading, exact: true })).toBeVisible();
  }
  await expect.poll(() => answers.some((a) => a.path === '/api/analytics/report' && a.bytes >= 1024)).toBe(true);
  await expect.poll(() => answers.some((a) => a.path === '/api/endpoints/page')).toBe(true);
  for (const a of answers) expect(a.encoding, `${a.path}: ${a.bytes} B`).toBe(a.bytes >= 1024 ? 'gzip' : 'none');
  // The page is painted only once its stylesheet is in: it comes before
  // the bundle's preloads in the head.
  const order = await page.evaluate(() => [...document.head.querySelectorAll('link')].map((l) => l.rel));
  expect(order.indexOf('stylesheet')).toBeGreaterThanOrEqual(0);
  expect(order.indexOf('stylesheet')).toBeLessThan(order.indexOf('modulepreload'));
});

test('a chunk that fails to load stops the page with a readable notice and a reload link', async ({ page }) => {
  await logIn(page, ADMIN);
  // As if a deploy replaced the build while this tab was open.
  await page.route(/\/pkg\/.*\.[0-9a-f]{10}\.wasm$/, (route) => route.fulfill({ status: 404, body: 'not found' }));
  await page.locator('[data-nav="/analytics"]').click();
  const notice = page.getByTestId('studio-stopped');
  await expect(notice).toBeVisible();
  await expect(notice).toContainText('failed to load');
  await page.screenshot({ path: 'end2end/screenshots/studio-stopped.png' });
  // The link reloads the page (plain HTML: it works with the wasm stopped).
  await page.unroute(/\/pkg\/.*\.[0-9a-f]{10}\.wasm$/);
  const reloaded = page.waitForEvent('domcontentloaded');
  await page.getByTestId('studio-reload').click();
  await reloaded;
  await hydrated(page);
  await expect(page.getByTestId('studio-stopped')).toHaveCount(0);
});
