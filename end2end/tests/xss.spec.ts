// Hostile text in the studio is shown, never run. An architect puts
// script-bearing text into every cell of one map of each kind (CJM,
// blueprint, communication map, integration points) and into a scenario's
// message template; the studio saves it, shows it back as text after a
// reload, in the history diff, the CSV and the printed spec — and no
// script runs, no element is injected, no dialog opens.
//
// Starts its own `comops serve --demo` (the shared server seeds the bots
// only) and stops that process afterwards.
import { test, expect, Page } from '@playwright/test';
import { OwnServer, startOwnServer } from './own-server';
import { hydrated } from './helpers';

const PORT = Number(process.env.COMOPS_E2E_XSS_PORT ?? 3420);
const BASE = `http://127.0.0.1:${PORT}`;
const ARCHITECT = { email: 'architect@comops.local', password: 'e2e-architect-password' };

/** Each payload would set `window.__xss` if it ever ran. */
const PAYLOADS = [
  `<img src=x onerror="window.__xss=(window.__xss||0)+1">`,
  `<script>window.__xss=(window.__xss||0)+1</script>`,
  `"><svg onload="window.__xss=1">`,
  `</textarea><iframe srcdoc="<script>parent.__xss=1</script>"></iframe>`,
  `javascript:window.__xss=1`,
];

test.describe.configure({ mode: 'serial' });
test.use({ baseURL: BASE });

let own: OwnServer | undefined;

test.beforeAll(async () => {
  own = await startOwnServer({ name: 'xss', port: PORT, users: [{ ...ARCHITECT, role: 'architect' }] });
});

test.afterAll(() => own?.stop());

/** Fails the test on any dialog the page opens. */
function watchDialogs(page: Page): string[] {
  const opened: string[] = [];
  page.on('dialog', async (dialog) => {
    opened.push(dialog.message());
    await dialog.dismiss();
  });
  return opened;
}

/** Nothing ran and nothing was injected into the page. */
async function expectInert(page: Page, opened: string[]) {
  expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
  await expect(page.locator('img[src=x], svg[onload], iframe[srcdoc]')).toHaveCount(0);
  // An injected <script> would hold the payload's code as its own text; the
  // hydration data may hold it too, but as an escaped JSON string.
  expect(await page.locator('script').evaluateAll((nodes) => nodes.filter((n) => /^\s*(window|parent)\.__xss/.test(n.textContent ?? '')).length)).toBe(0);
  expect(opened).toEqual([]);
}

async function logIn(page: Page) {
  await page.goto('/login');
  await hydrated(page);
  await page.locator('input[name=email]').fill(ARCHITECT.email);
  await page.locator('input[name=password]').fill(ARCHITECT.password);
  await page.locator('button[type=submit]').click();
  await page.waitForURL('**/projects');
  await hydrated(page);
}

for (const map of ['map_registration-cjm', 'map_onboarding-blueprint', 'map_rehau', 'map_integration-points']) {
  test(`every cell of ${map} keeps hostile text inert`, async ({ page }) => {
    const opened = watchDialogs(page);
    await logIn(page);
    await page.goto(`/maps/${map}`);
    await hydrated(page);
    const cells = page.getByTestId('map-table').locator('textarea');
    const count = await cells.count();
    expect(count).toBeGreaterThan(3);
    for (let i = 0; i < count; i++) {
      await cells.nth(i).fill(`${PAYLOADS[i % PAYLOADS.length]} #${i}`);
    }
    await expectInert(page, opened);
    await page.getByTestId('change-note').fill(PAYLOADS[0]);
    await page.getByTestId('save-map').click();
    // Cells bound to endpoints refuse text that is not an alias: the
    // errors quote it, inertly; the rest saves.
    await expect(page.getByTestId('saved').or(page.getByTestId('invalid'))).toBeVisible();
    await expectInert(page, opened);
    if (await page.getByTestId('invalid').isVisible()) {
      for (const field of ['trigger_alias', 'alias', 'endpoint']) {
        const bound = page.getByTestId('map-table').locator(`textarea[data-field=${field}]`);
        for (let i = 0; i < (await bound.count()); i++) await bound.nth(i).fill('');
      }
      await page.getByTestId('save-map').click();
      await expect(page.getByTestId('saved')).toBeVisible();
    }

    // Reloaded from the server (server-rendered, then hydrated): text, not markup.
    await page.reload();
    await hydrated(page);
    await expectInert(page, opened);
    const values = await page.getByTestId('map-table').locator('textarea').evaluateAll((nodes) => nodes.map((n) => (n as HTMLTextAreaElement).value));
    expect(values.some((v) => v.startsWith(PAYLOADS[0]))).toBe(true);

    // The history's diff, the CSV and the read-only old version show it as text.
    await page.getByTestId('history-toggle').click();
    const history = page.getByTestId('history');
    await history.locator('[data-testid=diff-prev]').first().click();
    await expect(history.getByTestId('diff')).toContainText('<img src=x');
    await expectInert(page, opened);
    // CSV exists for CJMs and communication maps.
    if ((await page.getByTestId('csv-export').count()) > 0) {
      await page.getByTestId('csv-export').click();
      await expect(page.getByTestId('csv-text')).toHaveValue(/<img src=x/);
    }
    await history.locator('[data-testid=view-version]').first().click();
    await hydrated(page);
    await expectInert(page, opened);
  });
}

test('the printable spec shows the hostile cells as text', async ({ page }) => {
  const opened = watchDialogs(page);
  await logIn(page);
  await page.goto('/maps');
  await hydrated(page);
  await page.getByTestId('spec-export').click();
  await expect(page.getByTestId('spec-markdown')).toContainText('<img src=x');
  await expectInert(page, opened);
});

test('a hostile message template is shown as text in the scenario editor', async ({ page }) => {
  const opened = watchDialogs(page);
  await logIn(page);
  await page.goto('/scenarios?bot=bot_shop');
  await hydrated(page);
  await page.getByTestId('new-scenario').click();
  const form = page.getByTestId('scenario-form');
  await form.locator('input[name=name]').fill('hostile_e2e');
  await form.locator('select[name=template]').selectOption('empty');
  await form.locator('input[name=description]').fill(PAYLOADS[2]);
  await form.locator('input[name=name]').press('Enter');
  await page.waitForURL('**/scenarios?bot=bot_shop&name=hostile_e2e');
  const editor = page.getByTestId('scenario-editor');
  await editor.locator('select[name=new-step-type]').selectOption('message');
  await editor.getByTestId('add-step-button').click();
  const stepForm = editor.getByTestId('step-form');
  await stepForm.locator('input[name=id]').fill('hello');
  await stepForm.locator('textarea[name=text]').fill(`${PAYLOADS[0]} {{ params.name }} ${PAYLOADS[1]}`);
  await stepForm.locator('input[name=next]').fill('end');
  await stepForm.locator('input[name=next]').press('Enter');
  await expect(stepForm).toBeHidden();
  await expectInert(page, opened);
  await expect(editor.getByTestId('steps-table')).toContainText('<img src=x');
  await editor.getByTestId('view-json').click();
  await expect(editor.locator('textarea[name=scenario-json]')).toHaveValue(/<script>window/);
  await expectInert(page, opened);
  await editor.getByTestId('view-steps').click();
  await editor.locator('[data-step=hello]').getByTestId('make-start').click();
  await editor.getByTestId('save-scenario').click();
  const note = editor.getByTestId('note-form');
  await note.locator('input[name=note]').fill(PAYLOADS[1]);
  await note.locator('input[name=note]').press('Enter');
  await expect(editor.getByTestId('save-message')).toHaveText(/2/);

  // Server-rendered after a reload, and in the history: still text.
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId('steps-table')).toContainText('<img src=x');
  await expect(page.getByTestId('versions')).toContainText('<script>');
  await expectInert(page, opened);
});
