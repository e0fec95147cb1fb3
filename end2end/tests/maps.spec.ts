// Maps in the studio, on the demo's maps. An analyst opens the demo CJM
// «Регистрация и онбординг в Telegram-боте», edits a cell in place, saves
// with a note, finds v2 in the history, diffs it against v1 and restores
// v1 (as v3). Then two analysts edit the same map in two browsers: the
// second save is a conflict naming the first one's version and author;
// "keep my edits" re-bases them onto it and the next save keeps both.
// A viewer reads the tables, the CSV and the spec export, and edits nothing;
// an analyst rewrites a blueprint through its CSV.
//
// The shared server (serve.sh) seeds the demo bots only, so this spec
// starts its own `comops serve --demo` on a fresh database, with analysts
// made by the real CLI, and stops it (that process only) afterwards.
import { readFileSync } from 'node:fs';
import { test, expect, Browser, Locator, Page } from '@playwright/test';
import { OwnServer, startOwnServer } from './own-server';
import { chooseLanguage, hydrated, logIn } from './helpers';

const PORT = Number(process.env.COMOPS_E2E_MAPS_PORT ?? 3418);
const BASE = `http://127.0.0.1:${PORT}`;
const ANALYST = { email: 'analyst@comops.local', password: 'e2e-analyst-password' };
const ANALYST2 = { email: 'analyst2@comops.local', password: 'e2e-analyst2-password' };
const VIEWER = { email: 'viewer@comops.local', password: 'e2e-viewer-password' };
const ARCHITECT = { email: 'architect@comops.local', password: 'e2e-architect-password' };
const CJM = 'map_registration-cjm';

test.describe.configure({ mode: 'serial' });
test.use({ baseURL: BASE });

let own: OwnServer | undefined;

test.beforeAll(async () => {
  own = await startOwnServer({ name: 'maps', port: PORT, users: [{ ...ANALYST, role: 'analyst' }, { ...ANALYST2, role: 'analyst' }, { ...VIEWER, role: 'viewer' }, { ...ARCHITECT, role: 'architect' }] });
});

test.afterAll(() => own?.stop());

async function openCjm(page: Page) {
  await page.goto(`/maps/${CJM}`);
  await hydrated(page);
  await expect(page.getByTestId('map-table')).toBeVisible();
}

/** A cell's textarea: `field` of the `n`th row (0-based). */
function cell(page: Page, n: number, field: string) {
  return page.getByTestId('map-table').locator('tbody tr').nth(n).locator(`textarea[data-field=${field}]`);
}

test('in a cell, Escape puts the text back and Enter goes to the row below', async ({ page }) => {
  await logIn(page, ANALYST);
  await page.goto(`/maps/${CJM}`);
  await hydrated(page);
  const goal = cell(page, 0, 'goal');
  const before = await goal.inputValue();
  await goal.focus();
  await page.keyboard.type('опечатка ');
  await expect(goal).not.toHaveValue(before);
  await page.keyboard.press('Escape');
  await expect(goal).toHaveValue(before);
  await expect(goal).not.toBeFocused();
  // Enter moves down instead of breaking the line (Tab then Enter used to
  // put a blank first line into the cell).
  const second = cell(page, 1, 'goal');
  const secondText = await second.inputValue();
  await second.focus();
  await page.keyboard.press('Enter');
  await expect(cell(page, 2, 'goal')).toBeFocused();
  await expect(second).toHaveValue(secondText);
});

test('an analyst edits the demo CJM in place, saves with a note, diffs and restores', async ({ page }) => {
  await logIn(page, ANALYST);
  await page.goto('/maps');
  await hydrated(page);
  const list = page.getByTestId('maps-table');
  await expect(list.locator(`[data-map=${CJM}]`)).toContainText('Регистрация и онбординг в Telegram-боте');
  await expect(list.locator('[data-map=map_rehau]')).toBeVisible();
  await page.screenshot({ path: 'end2end/screenshots/maps.png', fullPage: true });
  // The filter box keeps the maps whose title, author or kind has the text.
  await page.getByTestId('map-filter').fill('регистрац');
  await expect(list.locator('[data-map=map_rehau]')).toBeHidden();
  await expect(list.locator(`[data-map=${CJM}]`)).toBeVisible();
  await page.getByTestId('map-filter').fill('');
  await expect(list.locator('[data-map=map_rehau]')).toBeVisible();
  await list.locator(`[data-map=${CJM}] [data-testid=open-map]`).click();
  await page.waitForURL(`**/maps/${CJM}`);
  await hydrated(page);
  await expect(page.getByTestId('map-version')).toHaveText('v1');
  await expect(page.getByTestId('emotion-curve').locator('circle').first()).toBeVisible();

  const goal = cell(page, 0, 'goal');
  const original = await goal.inputValue();
  expect(original.length).toBeGreaterThan(0);
  await goal.fill('Быстро начать пользоваться ботом (e2e)');
  await expect(page.getByTestId('unsaved')).toBeVisible();
  await page.getByTestId('change-note').fill('e2e: sharper goal');
  await page.getByTestId('change-note').press('Enter');
  await expect(page.getByTestId('saved')).toContainText('v2');
  await expect(page.getByTestId('map-version')).toHaveText('v2');
  // The header names who saved the version shown: this analyst now.
  await expect(page.getByTestId('map-author')).toHaveText(ANALYST.email);

  // The history is a side panel, closed until its button opens it; open,
  // it stays open on the next map the browser opens.
  await expect(page.getByTestId('history')).toHaveCount(0);
  await expect(page.getByTestId('history-toggle')).toHaveAttribute('aria-expanded', 'false');
  await page.getByTestId('history-toggle').click();
  await expect(page.getByTestId('history-toggle')).toHaveAttribute('aria-expanded', 'true');
  const history = page.getByTestId('history');
  await expect(history.locator('[data-version="2"] [data-testid=version-note]')).toHaveText('e2e: sharper goal');
  await expect(history.locator('[data-version="2"]')).toContainText(ANALYST.email);
  await history.locator('[data-version="2"] [data-testid=diff-prev]').click();
  const diff = history.getByTestId('diff');
  await expect(diff.getByTestId('diff-after').first()).toHaveText('Быстро начать пользоваться ботом (e2e)');
  await expect(diff.getByTestId('diff-before').first()).toHaveText(original);
  // The changed cell is named by its column, not by its key (`goal`).
  await expect(diff.getByTestId('diff-field').first()).toHaveText('Customer goal');
  await page.screenshot({ path: 'end2end/screenshots/map-editor.png', fullPage: true });

  // An old version opens read-only.
  await history.locator('[data-version="1"] [data-testid=view-version]').click();
  await page.waitForURL(`**/maps/${CJM}?v=1`);
  await expect(page.getByTestId('old-version')).toBeVisible();
  await expect(page.getByTestId('map-table').locator('textarea')).toHaveCount(0);
  await expect(page.getByTestId('map-table').locator('tbody tr').first()).toContainText(original);

  await page.getByTestId('history').locator('[data-version="1"] [data-testid=restore-version]').click();
  await page.waitForURL(new RegExp(`/maps/${CJM}$`));
  await expect(page.getByTestId('map-version')).toHaveText('v3');
  await expect(cell(page, 0, 'goal')).toHaveValue(original);
  await expect(page.getByTestId('history').locator('[data-version="3"] [data-testid=version-note]')).toHaveText('restored from v1');

  // Every stage is named under the curve; a new stage has no score yet,
  // so no point, until one is typed.
  const curve = page.getByTestId('emotion-curve');
  const stages = await curve.getByTestId('curve-stage').count();
  const points = await curve.getByTestId('curve-point').count();
  expect(points).toBe(stages);
  await page.getByTestId('add-row').click();
  await expect(curve.getByTestId('curve-stage')).toHaveCount(stages + 1);
  await expect(curve.getByTestId('curve-point')).toHaveCount(points);
  await page.getByTestId('map-table').locator('tbody tr').last().locator('input[data-field=emotion_score]').fill('-1');
  await expect(curve.getByTestId('curve-point')).toHaveCount(points + 1);

  // A score out of range is refused, and the problem sits under its cell.
  const score = page.getByTestId('map-table').locator('tbody tr').first().locator('input[data-field=emotion_score]');
  await score.fill('7');
  await page.getByTestId('save-map').click();
  await expect(page.getByTestId('invalid')).toBeVisible();
  await expect(page.getByTestId('map-table').locator('tbody tr').first().locator('[data-error-for=emotion_score]')).not.toBeEmpty();
  await expect(page.getByTestId('map-version')).toHaveText('v3');
});

async function analystPage(browser: Browser, who: { email: string; password: string }) {
  const context = await browser.newContext({ baseURL: BASE });
  const page = await context.newPage();
  await logIn(page, who);
  await openCjm(page);
  return page;
}

test('two analysts save the same map: the second gets the conflict and loses nothing', async ({ browser }) => {
  const first = await analystPage(browser, ANALYST);
  const second = await analystPage(browser, ANALYST2);
  const version = await second.getByTestId('map-version').innerText();

  await cell(first, 1, 'actions').fill('Нажимает «Старт» (first)');
  await first.getByTestId('change-note').fill('first analyst');
  await first.getByTestId('save-map').click();
  await expect(first.getByTestId('saved')).toBeVisible();

  await cell(second, 2, 'needs').fill('Понять, зачем боту телефон (second)');
  await second.getByTestId('change-note').fill('second analyst');
  await second.getByTestId('save-map').click();
  const conflict = second.getByTestId('conflict');
  await expect(conflict).toContainText(ANALYST.email);
  const next = `v${Number(version.slice(1)) + 1}`;
  await expect(conflict).toContainText(next);
  await expect(cell(second, 2, 'needs')).toHaveValue('Понять, зачем боту телефон (second)');
  await second.screenshot({ path: 'end2end/screenshots/map-conflict.png', fullPage: true });

  // Keep my edits: re-based onto the first analyst's version, reviewed, saved.
  await conflict.getByTestId('conflict-keep').click();
  const rebased = second.getByTestId('rebased');
  await expect(rebased.getByTestId('diff-after').first()).toHaveText('Нажимает «Старт» (first)');
  await expect(cell(second, 1, 'actions')).toHaveValue('Нажимает «Старт» (first)');
  await expect(cell(second, 2, 'needs')).toHaveValue('Понять, зачем боту телефон (second)');
  await cell(second, 2, 'needs').press('Control+s');
  await expect(second.getByTestId('saved')).toBeVisible();

  // Both edits are in the current version.
  await first.reload();
  await hydrated(first);
  await expect(cell(first, 1, 'actions')).toHaveValue('Нажимает «Старт» (first)');
  await expect(cell(first, 2, 'needs')).toHaveValue('Понять, зачем боту телефон (second)');
  await first.context().close();
  await second.context().close();
});

test('a viewer reads the maps, exports CSV and the spec, and cannot edit', async ({ page }) => {
  await logIn(page, VIEWER);
  await page.goto('/maps');
  await hydrated(page);
  await expect(page.getByTestId('new-map')).toHaveCount(0);
  await page.getByTestId('spec-export').click();
  await expect(page.getByTestId('spec-markdown')).toContainText('Регистрация и онбординг в Telegram-боте');
  // In the reader's language; in Russian it is the methodology's document.
  await expect(page.getByTestId('spec-markdown')).toContainText('# DMI project specification: ComOps demo');
  await page.screenshot({ path: 'end2end/screenshots/map-spec.png', fullPage: true });
  await chooseLanguage(page, 'ru');
  await page.getByTestId('spec-export').click();
  await expect(page.getByTestId('spec-markdown')).toContainText('# Техническое задание на DMI-проект: ComOps demo');
  await chooseLanguage(page, 'en');

  await page.goto('/maps/map_rehau');
  await hydrated(page);
  await expect(page.getByTestId('map-table').locator('tbody tr').first()).toBeVisible();
  await expect(page.getByTestId('map-table').locator('textarea')).toHaveCount(0);
  await expect(page.getByTestId('save-form')).toHaveCount(0);
  await expect(page.getByTestId('trigger-endpoint').first()).toHaveAttribute('href', /\/endpoints\?bot=bot_rehau/);
  await page.getByTestId('csv-export').click();
  await expect(page.getByTestId('csv-text')).toHaveValue(/REHAU|Событие/);
  // To copy, not to paste: read-only, without the import or its hint.
  await expect(page.getByTestId('csv-text')).toHaveAttribute('readonly', '');
  await expect(page.getByTestId('csv-open-import')).toHaveCount(0);
  await expect(page.getByTestId('csv-panel')).not.toContainText(/Paste CSV|Вставьте CSV/);
  await page.screenshot({ path: 'end2end/screenshots/map-communication.png', fullPage: true });

  await page.goto('/maps/map_onboarding-blueprint');
  await hydrated(page);
  const grid = page.getByTestId('blueprint-grid');
  await expect(grid).toContainText('Line of visibility');
  await expect(grid).toContainText('users/connect-bot');
  await page.screenshot({ path: 'end2end/screenshots/map-blueprint.png', fullPage: true });
});

test('in Russian, a blueprint wider than the page keeps each row\'s buttons in view', async ({ page }) => {
  await logIn(page, ANALYST);
  await page.goto('/maps/map_onboarding-blueprint');
  await hydrated(page);
  await chooseLanguage(page, 'ru');
  const table = page.getByTestId('map-table');
  // The headers follow the switch of language.
  await expect(table.locator('thead th').nth(1)).toHaveText('Этап');
  const remove = table.locator('tbody tr').first().getByTestId('row-delete');
  await expect(remove).toBeVisible();
  const wrapper = (await table.locator('xpath=..').boundingBox())!;
  expect((await table.boundingBox())!.width).toBeGreaterThan(wrapper.width);
  const box = (await remove.boundingBox())!;
  expect(box.x + box.width).toBeLessThanOrEqual(wrapper.x + wrapper.width);
  await page.screenshot({ path: 'end2end/screenshots/map-blueprint-ru.png', fullPage: true });
  await chooseLanguage(page, 'en');
});

test('an analyst rewrites a blueprint lane in its CSV and imports it; a malformed endpoint is named by line and column', async ({ page }) => {
  await logIn(page, ANALYST);
  await page.goto('/maps/map_onboarding-blueprint');
  await hydrated(page);
  await page.getByTestId('csv-export').click();
  const text = page.getByTestId('csv-text');
  await expect(text).toHaveValue(/Эндпоинты: поддерживающие процессы/);
  const csv = await text.inputValue();
  expect(csv).toContain('/bots/bot_rehau/call/users/connect-bot');
  await text.fill(csv.replace('Оператор отвечает вручную', 'Оператор отвечает из Helpdesk'));
  await page.getByTestId('csv-import').click();
  // The editor comes back with the imported version: the grid and the table show it.
  await expect(page.getByTestId('blueprint-grid')).toContainText('Оператор отвечает из Helpdesk');
  const cells = page.getByTestId('map-table').locator('textarea');
  await expect.poll(() => cells.evaluateAll((all) => all.filter((c) => (c as HTMLTextAreaElement).value === 'Оператор отвечает из Helpdesk').length)).toBe(1);

  await page.getByTestId('csv-export').click();
  await expect(text).toHaveValue(/из Helpdesk/);
  const again = await text.inputValue();
  await text.fill(again.replace('/bots/bot_rehau/call/users/connect-bot', '/bots/{botId}/call/users/connect-bot'));
  await page.getByTestId('csv-import').click();
  await expect(page.getByTestId('save-error')).toContainText('CSV: Line 3, column "Эндпоинты: поддерживающие процессы": write an endpoint as /bots/{bot}/call/{alias}');
  await expect(page.getByTestId('blueprint-grid')).toContainText('users/connect-bot');
});

test('an analyst adds a crossing on the blueprint, notes and turns it, saves; it comes back, and goes when removed', async ({ page }) => {
  await logIn(page, ANALYST);
  await page.goto('/maps/map_onboarding-blueprint');
  await hydrated(page);
  const grid = page.getByTestId('blueprint-grid');
  // The demo's crossings are drawn at their stage, on their line.
  await expect(grid.locator('[data-line=visibility] [data-crossing=x2] input[name=crossing-note]')).toHaveValue(/connect-bot/);
  await expect(grid.locator('[data-line=internal_interaction] [data-crossing=x3] [data-testid=crossing-turn]')).toHaveText('↑');

  await grid.locator('[data-line=interaction] [data-add-crossing=first-use]').click();
  const added = grid.locator('[data-line=interaction] [data-crossing=x-4]');
  await expect(added.getByTestId('crossing-turn')).toHaveText('↓');
  await added.locator('input[name=crossing-note]').fill('Клиент отвечает боту на мини-инструкцию');
  // Straight from the note to the arrow: the note, written as the field
  // loses the focus, must not cost the arrow its click.
  await added.getByTestId('crossing-turn').click();
  await expect(added.getByTestId('crossing-turn')).toHaveText('↑');
  await expect(page.getByTestId('unsaved')).toBeVisible();
  await page.getByTestId('save-map').click();
  await expect(page.getByTestId('saved')).toBeVisible();

  await page.reload();
  await hydrated(page);
  await expect(added.locator('input[name=crossing-note]')).toHaveValue('Клиент отвечает боту на мини-инструкцию');
  await expect(added.getByTestId('crossing-turn')).toHaveText('↑');
  await added.getByTestId('crossing-remove').click();
  await expect(added).toHaveCount(0);
  await page.getByTestId('save-map').click();
  await expect(page.getByTestId('saved')).toBeVisible();
  await page.reload();
  await hydrated(page);
  await expect(grid.locator('[data-crossing]')).toHaveCount(3);
});

test('a page load shows the cells\' text before the bundle runs, and without it', async ({ page }) => {
  await logIn(page, ANALYST);
  const loaded = await (await page.request.post(`${BASE}/api/maps/get`, { form: { map_id: 'map_rehau', version: '0' }, headers: { Origin: BASE } })).json();
  const content = JSON.parse(loaded.content);
  const first = content.rows[0];
  expect(first.event.length).toBeGreaterThan(0);
  expect(content.process.length).toBeGreaterThan(0);
  // No wasm: the page stays as the server rendered it.
  await page.route(/\.wasm$/, (route) => route.abort());
  await page.goto('/maps/map_rehau');
  await expect(cell(page, 0, 'event')).toHaveValue(first.event);
  await expect(cell(page, 0, 'channel')).toHaveValue(first.channel);
  await expect(page.getByTestId('map-header')).toHaveValue(content.process);
  await expect(page.locator('input[name=title]')).toHaveValue(loaded.title);
  expect(await page.locator('body').getAttribute('data-hydrated')).toBeNull();
  await page.unroute(/\.wasm$/);
  // Hydrated, the same text, and still editable.
  await page.reload();
  await hydrated(page);
  await expect(cell(page, 0, 'event')).toHaveValue(first.event);
  await cell(page, 0, 'event').fill(`${first.event}!`);
  await expect(page.getByTestId('unsaved')).toBeVisible();
});

test('an architect binds a map row to an endpoint, sees its traffic and opens its docs', async ({ page }) => {
  await logIn(page, ARCHITECT);
  await page.goto('/maps/map_shop');
  await hydrated(page);
  const row = page.getByTestId('map-table').locator('tbody tr').nth(1);
  await expect(row.getByTestId('trigger-endpoint')).toHaveText('order/status');
  // Live figures arrive after hydration: this endpoint was never called here.
  await expect(row.getByTestId('trigger-figures')).toHaveAttribute('data-calls', '0');
  await row.getByTestId('trigger-bind').click();
  await row.getByTestId('trigger-select').selectOption('bot_shop|order/review');
  await expect(row.getByTestId('trigger-endpoint')).toHaveText('order/review');
  await expect(row.getByTestId('trigger-scenario')).toHaveText('order_review');
  await expect(page.getByTestId('unsaved')).toBeVisible();
  await page.getByTestId('change-note').fill('row 2 starts the review');
  await page.getByTestId('save-map').click();
  await expect(page.getByTestId('saved')).toBeVisible();
  await page.screenshot({ path: 'end2end/screenshots/map-binding.png', fullPage: true });

  // Saved on the server: a reload shows the new binding.
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId('map-table').locator('tbody tr').nth(1).getByTestId('trigger-endpoint')).toHaveText('order/review');

  // The row's docs link opens the bot's API docs at that endpoint.
  await page.getByTestId('map-table').locator('tbody tr').nth(1).getByTestId('trigger-docs').click();
  await page.waitForURL('**/docs/bot_shop#ep-order--review');
  await expect(page.locator('#ep-order--review')).toContainText('order/review');
  await expect(page.locator('#ep-order--review')).toBeInViewport();
});

test('an analyst may edit a communication map but not re-bind its rows', async ({ page }) => {
  await logIn(page, ANALYST);
  await page.goto('/maps/map_shop');
  await hydrated(page);
  await expect(page.getByTestId('map-table').locator('textarea').first()).toBeVisible();
  await expect(page.getByTestId('trigger-bind')).toHaveCount(0);
});

test('an analyst plans an integration point by its alias; an architect binds it to a live endpoint', async ({ page, browser }) => {
  const points = 'map_integration-points';
  const analyst = await analystPage(browser, ANALYST);
  await analyst.goto(`/maps/${points}`);
  await hydrated(analyst);
  const table = analyst.getByTestId('map-table');
  // A bound point shows its endpoint and bot; only architects re-bind.
  await expect(table.locator('tbody tr').first().getByTestId('trigger-endpoint')).toHaveText('users/connect-bot');
  await expect(table.locator('tbody tr').first().getByTestId('trigger-bot')).toHaveText('bot_rehau');
  await expect(analyst.getByTestId('trigger-bind')).toHaveCount(0);
  // A new point: its alias typed, as planned, with no bot yet.
  await analyst.getByTestId('add-row').click();
  const planned = table.locator('tbody tr').last();
  await planned.locator('input[data-field=alias]').fill('order/feedback');
  await planned.locator('input[data-field=alias]').press('Enter');
  await planned.locator('textarea[data-field=description]').fill('Оценка заказа');
  await analyst.getByTestId('save-map').click();
  await expect(analyst.getByTestId('saved')).toBeVisible();
  await analyst.reload();
  await hydrated(analyst);
  await expect(table.locator('tbody tr').last().locator('input[data-field=alias]')).toHaveValue('order/feedback');
  await analyst.close();

  // The architect binds it to a live endpoint of the project.
  await logIn(page, ARCHITECT);
  await page.goto(`/maps/${points}`);
  await hydrated(page);
  const row = page.getByTestId('map-table').locator('tbody tr').last();
  await row.getByTestId('trigger-bind').click();
  await row.getByTestId('trigger-select').selectOption('bot_shop|order/review');
  await expect(row.getByTestId('trigger-endpoint')).toHaveText('order/review');
  await expect(row.getByTestId('trigger-bot')).toHaveText('bot_shop');
  await expect(row.getByTestId('trigger-figures')).toHaveAttribute('data-calls', /\d+/);
  await page.getByTestId('save-map').click();
  await expect(page.getByTestId('saved')).toBeVisible();
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId('map-table').locator('tbody tr').last().getByTestId('trigger-endpoint')).toHaveText('order/review');
  // Unbound again, it keeps its alias as the plan.
  await page.getByTestId('map-table').locator('tbody tr').last().getByTestId('trigger-bind').click();
  await page.getByTestId('map-table').locator('tbody tr').last().getByTestId('trigger-select').selectOption('');
  await expect(page.getByTestId('map-table').locator('tbody tr').last().locator('input[data-field=alias]')).toHaveValue('order/review');
});

test('an analyst links a communication row to a CJM stage and a blueprint cell in the table; the blueprint shows its stages\' links', async ({ page }) => {
  await logIn(page, ANALYST);
  await chooseLanguage(page, 'en');
  await page.goto('/maps/map_shop');
  await hydrated(page);
  const row = page.getByTestId('map-table').locator('tbody tr').first();
  const stages = row.locator('[data-field=stages]');
  await stages.getByTestId('link-add').click();
  await stages.getByTestId('link-select').selectOption('map_registration-cjm#first-use');
  const stage = stages.locator('[data-link="map_registration-cjm#first-use"]');
  await expect(stage).toContainText('Регистрация и онбординг в Telegram-боте · Первое использование');
  const cells = row.locator('[data-field=cells]');
  await cells.getByTestId('link-add').click();
  await cells.getByTestId('link-select').selectOption('map_onboarding-blueprint#first-use:front_stage');
  await expect(cells.locator('[data-link="map_onboarding-blueprint#first-use:front_stage"]')).toContainText('Front Stage Interactions');
  // A stage already linked is not offered again.
  await stages.getByTestId('link-add').click();
  await expect(stages.getByTestId('link-select').locator('option[value="map_registration-cjm#first-use"]')).toHaveCount(0);
  await stages.getByTestId('link-select').press('Escape');
  await page.getByTestId('save-map').click();
  await expect(page.getByTestId('saved')).toBeVisible();

  await page.reload();
  await hydrated(page);
  await expect(stage).toBeVisible();
  // Removed again, and saved.
  await stage.getByTestId('link-remove').click();
  await expect(stage).toHaveCount(0);
  await page.getByTestId('save-map').click();
  await expect(page.getByTestId('saved')).toBeVisible();

  // The blueprint's table: each stage's CJM stages, named.
  await page.goto('/maps/map_onboarding-blueprint');
  await hydrated(page);
  await expect(page.getByTestId('map-table').locator('[data-field=cjm_stages] [data-link="map_registration-cjm#registration"]')).toContainText('Регистрация');
});

test('an architect deletes a map after confirming; analysts may not delete bound maps, viewers nothing', async ({ page, browser }) => {
  await logIn(page, ARCHITECT);
  await page.goto('/maps');
  await hydrated(page);
  await page.getByTestId('new-map').click();
  // A blank title is named under its field, not by its key in a banner.
  await page.getByTestId('map-form').locator('input[name=title]').fill('   ');
  await page.getByTestId('create-map').click();
  await expect(page.getByTestId('map-form').locator('[data-error-for=title]')).toBeVisible();
  await expect(page.getByTestId('map-form').getByRole('alert')).toHaveCount(0);
  await page.getByTestId('map-form').locator('input[name=title]').fill('e2e: a draft to delete');
  await page.getByTestId('create-map').click();
  await page.waitForURL(/\/maps\/map_/);
  const id = new URL(page.url()).pathname.split('/').pop()!;
  await page.goto('/maps');
  await hydrated(page);
  const row = page.getByTestId('maps-table').locator(`[data-map="${id}"]`);
  await expect(row).toContainText('e2e: a draft to delete');

  // Cancel leaves it; the confirmation names the map and says the history goes too.
  await row.getByTestId('delete-map').click();
  const confirm = page.getByTestId('delete-confirm');
  await expect(confirm).toContainText('e2e: a draft to delete');
  await expect(confirm).toContainText(/history|истори/);
  await confirm.getByTestId('delete-cancel').click();
  await expect(confirm).toHaveCount(0);
  await expect(row).toBeVisible();

  // A communication map links a row to the draft's stage (both over the API).
  const post = (fn: string, form: Record<string, string>) => page.request.post(`${BASE}/api/maps/${fn}`, { form, headers: { Origin: BASE } });
  const save = (map_id: string, title: string, content: unknown, base_version: number) =>
    page.request.post(`${BASE}/api/maps/save`, { data: { map_id, title, json: JSON.stringify(content), note: 'e2e', base_version }, headers: { Origin: BASE } });
  expect(await (await save(id, 'e2e: a draft to delete', { stages: [{ id: 'start', stage: 'Старт' }] }, 1)).json()).toEqual({ Saved: { version: 2 } });
  const holder: string = await (await post('create', { project_id: 'prj_demo', kind: 'communication', title: 'e2e: a holder' })).json();
  const linked = { rows: [{ id: 'r1', event: 'Старт', stages: [{ map: id, item: 'start' }] }] };
  expect(await (await save(holder, 'e2e: a holder', linked, 1)).json()).toEqual({ Saved: { version: 2 } });

  // Deleting the draft takes the link along, and says where.
  await page.reload();
  await hydrated(page);
  await row.getByTestId('delete-map').click();
  await expect(confirm).toContainText(/Links other maps hold to it go too|Связи других карт с ней тоже будут убраны/);
  await page.getByTestId('delete-confirm-yes').click();
  await expect(page.getByTestId('delete-confirm')).toHaveCount(0);
  await expect(row).toHaveCount(0);
  await expect(page.getByTestId('deleted-links-cut')).toHaveText('«e2e: a draft to delete» deleted. Links to it taken out of: «e2e: a holder» v3.');
  const after = await (await post('get', { map_id: holder, version: '0' })).json();
  expect(JSON.parse(after.content).rows[0].stages).toEqual([]);
  expect(after.version).toBe(3);
  const history = await (await post('versions', { map_id: holder })).json();
  expect(JSON.stringify(history)).toContain('links to the deleted map «e2e: a draft to delete» taken out (1)');
  expect((await post('delete', { map_id: holder })).status()).toBe(200);
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId('maps-table').locator(`[data-map="${id}"]`)).toHaveCount(0);
  await expect(page.getByTestId('maps-table').locator(`[data-map=${CJM}]`)).toBeVisible();
  const gone = await page.request.post(`${BASE}/api/maps/get`, { form: { map_id: id, version: '0' }, headers: { Origin: BASE } });
  expect(gone.status()).toBe(404);

  // An analyst may delete an unbound map, not one bound to endpoints — nor through the API.
  const analyst = await (await browser.newContext({ baseURL: BASE })).newPage();
  await logIn(analyst, ANALYST);
  await analyst.goto('/maps');
  await hydrated(analyst);
  const list = analyst.getByTestId('maps-table');
  await expect(list.locator(`[data-map=${CJM}] [data-testid=delete-map]`)).toBeVisible();
  await expect(list.locator('[data-map=map_rehau]')).toBeVisible();
  await expect(list.locator('[data-map=map_rehau] [data-testid=delete-map]')).toHaveCount(0);
  const refused = await analyst.request.post(`${BASE}/api/maps/delete`, { form: { map_id: 'map_rehau' }, headers: { Origin: BASE } });
  expect(refused.status()).toBe(403);
  // Importing a project creates bots and endpoints: not the analyst's.
  await expect(analyst.getByTestId('project-export')).toBeVisible();
  await expect(analyst.getByTestId('project-import-toggle')).toHaveCount(0);
  await analyst.context().close();

  // A viewer sees no delete button, and the server refuses the call.
  const viewer = await (await browser.newContext({ baseURL: BASE })).newPage();
  await logIn(viewer, VIEWER);
  await viewer.goto('/maps');
  await hydrated(viewer);
  await expect(viewer.getByTestId('maps-table').locator(`[data-map=${CJM}]`)).toBeVisible();
  await expect(viewer.getByTestId('delete-map')).toHaveCount(0);
  const denied = await viewer.request.post(`${BASE}/api/maps/delete`, { form: { map_id: CJM }, headers: { Origin: BASE } });
  expect(denied.status()).toBe(403);
  await viewer.reload();
  await hydrated(viewer);
  await expect(viewer.getByTestId('maps-table').locator(`[data-map=${CJM}]`)).toBeVisible();
  await viewer.context().close();
});

test('an architect downloads the project as JSON and imports it as a new project; bad files are named', async ({ page }) => {
  await logIn(page, ARCHITECT);
  await page.goto('/maps?project=prj_demo');
  await hydrated(page);
  const downloading = page.waitForEvent('download');
  await page.getByTestId('project-export').click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe('prj_demo.comops-project.json');
  const text = readFileSync((await download.path())!, 'utf8');
  const doc = JSON.parse(text);
  expect(doc.format).toBe('comops.project/v1');
  expect(doc.maps.map((m: { title: string }) => m.title)).toContain('Регистрация и онбординг в Telegram-боте');
  expect(doc.bots.length).toBeGreaterThan(0);

  await page.getByTestId('project-import-toggle').click();
  const form = page.getByTestId('project-import');
  const file = form.locator('input[name=project-file]');
  const fileError = form.locator('[data-error-for=project-file]');
  const json = (name: string, body: string) => ({ name, mimeType: 'application/json', buffer: Buffer.from(body) });

  // No file, then a file that is not JSON: said in the browser, nothing sent.
  await form.getByTestId('project-import-submit').click();
  await expect(fileError).toBeVisible();
  await file.setInputFiles(json('broken.json', '{"format": "comops.project/v1",\n'));
  await expect(fileError).toContainText(/line 2|строка 2/);

  // JSON of another format: the server names the place of each problem.
  await file.setInputFiles(json('other.json', JSON.stringify({ ...doc, format: 'other/v9' })));
  await expect(fileError).toHaveCount(0);
  await form.locator('input[name=slug]').fill('demo-copy');
  await form.getByTestId('project-import-submit').click();
  await expect(form.getByTestId('import-problems').locator('[data-problem=format]')).toContainText('comops.project/v1');

  // A map without a title too; every problem in the reader's language.
  // And a scenario whose start step does not exist.
  const withScenarios = doc.bots.findIndex((b: { scenarios: unknown[] }) => b.scenarios.length > 0);
  expect(withScenarios).toBeGreaterThanOrEqual(0);
  const bots = doc.bots.map((b: { scenarios: { start: string }[] }, i: number) =>
    i === withScenarios ? { ...b, scenarios: b.scenarios.map((s, j) => (j === 0 ? { ...s, start: 'nowhere' } : s)) } : b,
  );
  const untitled = { ...doc, bots, format: 'other/v9', maps: doc.maps.map((m: { title: string }, i: number) => (i === 0 ? { ...m, title: '' } : m)) };
  await file.setInputFiles(json('untitled.json', JSON.stringify(untitled)));
  await form.getByTestId('project-import-submit').click();
  const problems = form.getByTestId('import-problems');
  await expect(problems.locator('[data-problem="maps[0].title"]')).toContainText('Required.');
  const badStart = problems.locator(`[data-problem="bots[${withScenarios}].scenarios[0].start"]`);
  await expect(badStart).toContainText('no step with id "nowhere"');
  await chooseLanguage(page, 'ru');
  await expect(page.locator('html')).toHaveAttribute('lang', 'ru');
  await expect(problems.locator('[data-problem=format]')).toContainText('Неизвестный формат: ожидается «comops.project/v1»');
  await expect(problems.locator('[data-problem="maps[0].title"]')).toContainText('Обязательное поле.');
  await expect(badStart).toContainText('нет шага с идентификатором «nowhere»');
  await page.screenshot({ path: 'end2end/screenshots/project-import-problems-ru.png', fullPage: true });
  await chooseLanguage(page, 'en');
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');

  // The downloaded file under a slug already taken: the slug field says so.
  await file.setInputFiles(json(download.suggestedFilename(), text));
  await form.locator('input[name=slug]').fill('demo');
  await form.getByTestId('project-import-submit').click();
  await expect(form.locator('[data-error-for=slug]')).toBeVisible();
  await expect(form.getByTestId('import-done')).toHaveCount(0);

  await form.locator('input[name=slug]').fill('demo-copy');
  await form.getByTestId('project-import-submit').click();
  const done = form.getByTestId('import-done');
  await expect(done).toContainText(`${doc.maps.length}`);
  await page.screenshot({ path: 'end2end/screenshots/project-import.png', fullPage: true });
  await done.getByTestId('import-open').click();
  await page.waitForURL(/\/maps\?project=prj_/);
  expect(page.url()).not.toContain('prj_demo');
  const list = page.getByTestId('maps-table');
  await expect(list.locator('tbody tr')).toHaveCount(doc.maps.length);
  await expect(list).toContainText('Регистрация и онбординг в Telegram-боте');
});

/** Saves the demo's e-commerce map with its rows repeated to `n` (ids r1…rN, events «Событие №N»). */
/** Opens `map` from the maps list (a navigation inside the app) and
 * reports the rows painted in the first frame that has any: read in a
 * task queued from that frame, which runs after its paint and before the
 * table's own work queued later in the frame (the overscan). */
async function openedInApp(page: Page, map = 'map_shop'): Promise<{ rows: number; bottom: number; screen: number }> {
  await page.goto('/maps?project=prj_demo');
  await hydrated(page);
  return page.evaluate(async (map) => {
    document.querySelector<HTMLAnchorElement>(`a[href="/maps/${map}"]`)!.click();
    return await new Promise<{ rows: number; bottom: number; screen: number }>((resolve) => {
      const painted = () => {
        const rows = [...document.querySelectorAll<HTMLElement>('[data-testid=map-table] tbody tr[data-row]')];
        resolve({ rows: rows.length, bottom: rows[rows.length - 1].getBoundingClientRect().bottom, screen: innerHeight });
      };
      const check = () => {
        if (!document.querySelector('[data-testid=map-table] tbody tr[data-row]')) return requestAnimationFrame(check);
        setTimeout(painted, 0);
      };
      requestAnimationFrame(check);
    });
  }, map);
}

/** Hydrated, and a long map's rows after the first ones are in: until
 * then the table is inert and `aria-busy` (editor.rs). */
async function wholeMap(page: Page) {
  await hydrated(page);
  const body = page.getByTestId('map-body');
  await expect(body).toBeVisible();
  await expect(body).not.toHaveAttribute('aria-busy', 'true');
}

async function longShopMap(page: Page, n: number, note: string) {
  const headers = { Origin: BASE };
  const loaded = await (await page.request.post(`${BASE}/api/maps/get`, { form: { map_id: 'map_shop', version: '0' }, headers })).json();
  const content = JSON.parse(loaded.content);
  const template = content.rows;
  content.rows = Array.from({ length: n }, (_, i) => ({ ...template[i % template.length], id: `r${i + 1}`, number: i + 1, event: `Событие №${i + 1}`, stages: [], cells: [] }));
  const saved = await page.request.post(`${BASE}/api/maps/save`, {
    data: { map_id: 'map_shop', title: loaded.title, json: JSON.stringify(content), note, base_version: loaded.version },
    headers,
  });
  expect(saved.ok(), await saved.text()).toBe(true);
}

/** Fills a cell of a long map just scrolled to. The window settles on the
 * rows' measured heights within a few frames; a row drawn before that may
 * be drawn again, and a fill into the first drawing is lost. */
async function fillSettled(cell: Locator, text: string) {
  await expect(async () => {
    await cell.fill(text);
    await expect(cell).toHaveValue(text, { timeout: 500 });
  }).toPass();
}

/** The events of map_shop's current version, from the server. */
async function serverEvents(page: Page): Promise<string[]> {
  const after = await (await page.request.post(`${BASE}/api/maps/get`, { form: { map_id: 'map_shop', version: '0' }, headers: { Origin: BASE } })).json();
  return JSON.parse(after.content).rows.map((r: { event: string }) => r.event);
}

// A map of more than 100 rows renders only the rows near the screen
// (app/src/components/row_window.rs): at most a screen and 2 × 12 rows.
const MAX_ROWS_IN_DOM = 80;

test('a 120-row communication map: a cell far down is edited, moved up and saved; nothing else changes', async ({ page }) => {
  // An architect: the repeated rows keep their endpoint bindings.
  await logIn(page, ARCHITECT);
  await longShopMap(page, 120, 'e2e: 120 rows');

  await page.goto('/maps/map_shop');
  await wholeMap(page);
  await expect(page.getByTestId('map-table')).toHaveAttribute('data-rows', '120');
  // The last row is rendered once the page is scrolled to it.
  await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
  const last = page.locator('tr[data-row=r120]');
  await last.locator('textarea[data-field=event]').fill('Событие №120 (e2e)');
  await last.getByTestId('row-up').click();
  // The row moved: its number cell and its neighbour's follow.
  await expect(page.locator('tr[data-row=r120] td').first()).toHaveText('119');
  await expect(page.locator('tr[data-row=r119] td').first()).toHaveText('120');
  await page.getByTestId('change-note').fill('e2e: the last row, edited and moved up');
  // Only what changed travels: the edited row and the new order, not 120 rows.
  const sent = page.waitForRequest('**/api/maps/save-changes');
  await page.getByTestId('save-map').click();
  await expect(page.getByTestId('saved')).toBeVisible();
  expect((await sent).postDataBuffer()!.length).toBeLessThan(4_000);

  await page.reload();
  await wholeMap(page);
  await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
  await expect(page.locator('tr[data-row=r120] textarea[data-field=event]')).toHaveValue('Событие №120 (e2e)');
  await expect(page.locator('tr[data-row=r120] td').first()).toHaveText('119');
  await expect(page.locator('tr[data-row=r119] td').first()).toHaveText('120');
  // Typing after the save still edits the right row (the row index is
  // rebuilt once per move, not per cell).
  await page.locator('tr[data-row=r120] textarea[data-field=event]').fill('Событие №120 (e2e, again)');
  await page.getByTestId('save-map').click();
  await expect(page.getByTestId('saved')).toBeVisible();
  const events = await serverEvents(page);
  expect(events.length).toBe(120);
  expect(events[118]).toBe('Событие №120 (e2e, again)');
  expect(events[119]).toBe('Событие №119');
  expect(events[60]).toBe('Событие №61');
  expect(events[0]).toBe('Событие №1');
});

test('a 600-row map renders the rows near the screen; the arrow keys walk far down, an edit there saves; ?row= opens far down', async ({ page }) => {
  // An architect: the repeated rows keep their endpoint bindings.
  await logIn(page, ARCHITECT);
  await longShopMap(page, 600, 'e2e: 600 rows');
  // The server sends one screen of rows, not 600, and as data the rows
  // around it only (the rest are ids, fetched after the first paint).
  const html = await (await page.request.get(`${BASE}/maps/map_shop`)).text();
  const served = html.match(/data-row="/g)?.length ?? 0;
  expect(served).toBeGreaterThan(10);
  expect(served).toBeLessThanOrEqual(40);
  expect(html).toContain('Событие №44');
  expect(html).not.toContain('Событие №45');
  expect(html).not.toContain('Событие №600');

  // Until the rest is in (held back here), the table is inert and the map
  // cannot be saved; then it is whole.
  let release = () => {};
  const held = new Promise<void>((r) => (release = r));
  await page.route('**/api/maps/get', async (route) => {
    await held;
    await route.continue();
  });
  await page.goto('/maps/map_shop');
  await hydrated(page);
  const body = page.getByTestId('map-body');
  await expect(body).toHaveAttribute('aria-busy', 'true');
  await expect(body).toHaveAttribute('inert', '');
  await expect(page.getByTestId('save-map')).toBeDisabled();
  // Ctrl+S saves nothing then (and is not the browser's "save page");
  // Ctrl+F leaves the browser's find be.
  let saves = 0;
  page.on('request', (r) => { if (/\/api\/maps\/save/.test(r.url())) saves++; });
  await page.getByTestId('change-note').click();
  const ctrlS = await page.evaluate(() => {
    const ev = new KeyboardEvent('keydown', { key: 's', code: 'KeyS', ctrlKey: true, bubbles: true, cancelable: true });
    document.querySelector('[data-testid=change-note]')!.dispatchEvent(ev);
    return ev.defaultPrevented;
  });
  expect(ctrlS).toBe(true);
  await page.keyboard.press('Control+f');
  await expect(page.getByTestId('find-bar')).toHaveCount(0);
  release();
  await wholeMap(page);
  expect(saves).toBe(0);
  await page.unroute('**/api/maps/get');
  await expect(body).not.toHaveAttribute('inert');
  await expect(page.getByTestId('save-map')).toBeEnabled();
  // When the rest cannot be fetched the map stays held and says so;
  // "Load again" brings it.
  await page.route('**/api/maps/get', (route) => route.abort());
  await page.goto('/maps/map_shop');
  await hydrated(page);
  await expect(page.getByTestId('incomplete')).toBeVisible();
  await expect(body).toHaveAttribute('aria-busy', 'true');
  await expect(page.getByTestId('save-map')).toBeDisabled();
  await page.unroute('**/api/maps/get');
  await page.getByTestId('incomplete-reload').click();
  await wholeMap(page);
  await expect(page.getByTestId('incomplete')).toHaveCount(0);
  const table = page.getByTestId('map-table');
  const inDom = table.locator('tbody tr[data-row]');
  await expect(table).toHaveAttribute('data-rows', '600');
  await expect(page.locator('tr[data-row=r1]')).toBeVisible();
  expect(await inDom.count()).toBeLessThanOrEqual(MAX_ROWS_IN_DOM);

  // ArrowDown, pressed 150 times from the first row's event cell, walks
  // the column down to row 151: rendered, scrolled to and focused.
  await page.locator('tr[data-row=r1] textarea[data-field=event]').click();
  for (let k = 0; k < 150; k++) await page.keyboard.press('ArrowDown');
  const far = page.locator('tr[data-row=r151] textarea[data-field=event]');
  await expect(far).toBeFocused();
  await expect(far).toBeInViewport();
  await expect(page.locator('tr[data-row=r151] td').first()).toHaveText('151');
  await expect(page.locator('tr[data-row=r1]')).toHaveCount(0);
  expect(await inDom.count()).toBeLessThanOrEqual(MAX_ROWS_IN_DOM);
  // The caret came down at the end of the one-line text: typing appends.
  await page.keyboard.type(' (e2e)');
  await expect(far).toHaveValue('Событие №151 (e2e)');
  // ArrowUp walks back one row.
  await page.keyboard.press('ArrowUp');
  await expect(page.locator('tr[data-row=r150] textarea[data-field=event]')).toBeFocused();
  await page.keyboard.press('Control+s');
  await expect(page.getByTestId('saved')).toBeVisible();
  const events = await serverEvents(page);
  expect(events.length).toBe(600);
  expect(events[150]).toBe('Событие №151 (e2e)');
  expect(events[149]).toBe('Событие №150');

  // Open at a far row: scrolled to, highlighted, focused; the edit survived.
  await page.goto('/maps/map_shop?row=r151');
  await wholeMap(page);
  const opened = page.locator('tr[data-row=r151]');
  await expect(opened).toHaveAttribute('data-focused', 'true');
  await expect(opened).toBeFocused();
  await expect(opened).toBeInViewport();
  await expect(opened.locator('textarea[data-field=event]')).toHaveValue('Событие №151 (e2e)');
  await page.goto('/maps/map_shop?row=r587');
  await wholeMap(page);
  await expect(page.locator('tr[data-row=r587]')).toBeFocused();
  await expect(page.locator('tr[data-row=r587]')).toBeInViewport();
  await expect(page.locator('tr[data-row=r587] td').first()).toHaveText('587');
  expect(await inDom.count()).toBeLessThanOrEqual(MAX_ROWS_IN_DOM);
  // Scrolling back to the top renders the first rows again.
  await page.evaluate(() => window.scrollTo(0, 0));
  await expect(page.locator('tr[data-row=r1] textarea[data-field=event]')).toHaveValue('Событие №1');
  // Printing draws every row, so the paper has the whole map; afterwards
  // the table goes back to the rows near the screen.
  await page.evaluate(() => window.dispatchEvent(new Event('beforeprint')));
  await expect(inDom).toHaveCount(600);
  await expect(table.locator('tr[data-spacer]')).toHaveCount(0);
  await page.evaluate(() => window.dispatchEvent(new Event('afterprint')));
  await expect.poll(() => inDom.count()).toBeLessThanOrEqual(MAX_ROWS_IN_DOM);

  // Opened inside the app (built by the browser, not hydrated): the frame
  // that paints the first rows has the screen's rows, down past its
  // bottom edge, and not a tall screen of one-line rows more; the rows
  // below the screen come after that frame. The page's scroll anchoring
  // is off while the table is windowed, and back once the editor is left.
  // The opening's answer has the first 44 rows and the ids of the rest.
  const opening = page.waitForResponse('**/api/maps/open');
  let first = await openedInApp(page);
  const [answer] = await (await opening).json();
  expect(JSON.parse(answer.content).rows.length).toBe(44);
  expect(answer.later.length).toBe(556);
  expect(answer.later[555]).toBe('r600');
  expect(first.rows).toBeLessThan(32);
  expect(first.bottom).toBeGreaterThanOrEqual(first.screen);
  // Then the overscan: rows well below the screen's bottom edge.
  await expect.poll(() => page.evaluate(() => {
    const rows = document.querySelectorAll<HTMLElement>('[data-testid=map-table] tbody tr[data-row]');
    return rows[rows.length - 1].getBoundingClientRect().bottom - innerHeight;
  })).toBeGreaterThan(200);
  // And the rest of the map: its last row has its text.
  await expect(page.getByTestId('map-body')).not.toHaveAttribute('aria-busy', 'true');
  await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
  await expect(page.locator('tr[data-row=r600] textarea[data-field=event]')).toHaveValue('Событие №600');
  await page.evaluate(() => window.scrollTo(0, 0));
  await expect(page.locator('html')).toHaveClass(/\bmap-windowed\b/);
  await page.locator('a[href="/maps?project=prj_demo"]').first().click();
  await expect(table).toHaveCount(0);
  await expect(page.locator('html')).not.toHaveClass(/\bmap-windowed\b/);
  // One-line rows (an integration-points map), shorter than the browser's
  // first guess: the rows that fill the screen are added before that
  // first paint.
  const points = 'map_integration-points';
  const loaded = await (await page.request.post(`${BASE}/api/maps/get`, { form: { map_id: points, version: '0' }, headers: { Origin: BASE } })).json();
  const content = JSON.parse(loaded.content);
  const row = content.rows[1];
  // Points not bound yet (a bound one shows its endpoint's links and figures on more lines).
  content.rows = Array.from({ length: 600 }, (_, i) => ({ ...row, id: `r${i + 1}`, alias: null, bot_id: null, url: '/call', description: `№${i + 1}`, request: '{}', response: '{}', owner: 'e2e' }));
  const saved = await page.request.post(`${BASE}/api/maps/save`, {
    data: { map_id: points, title: loaded.title, json: JSON.stringify(content), note: 'e2e: 600 one-line rows', base_version: loaded.version },
    headers: { Origin: BASE },
  });
  expect(saved.ok(), await saved.text()).toBe(true);
  first = await openedInApp(page, points);
  expect(first.rows).toBeGreaterThan(Math.ceil(first.screen / 90));
  expect(first.bottom).toBeGreaterThanOrEqual(first.screen);
});

test('a refused save of a 300-row map names the rows with problems; "go to row" brings a far one in and focuses it', async ({ page }) => {
  await logIn(page, ARCHITECT);
  await longShopMap(page, 300, 'e2e: 300 rows');
  await page.goto('/maps/map_shop');
  await wholeMap(page);
  // A cell near the end gets more than the 4,000 characters a cell may hold.
  await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
  const far = page.locator('tr[data-row=r295] textarea[data-field=event]');
  await fillSettled(far, 'x'.repeat(4001));
  await page.evaluate(() => window.scrollTo(0, 0));
  await expect(page.locator('tr[data-row=r295]')).toHaveCount(0);
  await page.getByTestId('save-map').click();
  await expect(page.getByTestId('invalid')).toBeVisible();
  const goto = page.getByTestId('problem-rows').getByTestId('goto-problem');
  await expect(goto).toHaveText(['295']);
  await goto.click();
  const row = page.locator('tr[data-row=r295]');
  await expect(row).toBeInViewport();
  await expect(row.locator('[data-error-for=event]')).not.toBeEmpty();
  // The cell with the problem has the focus: typing puts it right.
  await expect(far).toBeFocused();
  await page.screenshot({ path: 'end2end/screenshots/map-problem-far-down.png' });
  // Put right there, the map saves.
  await fillSettled(far, 'Событие №295 (e2e)');
  await page.getByTestId('save-map').click();
  await expect(page.getByTestId('saved')).toBeVisible();
  expect((await serverEvents(page))[294]).toBe('Событие №295 (e2e)');
});

test('find in a 300-row map: Ctrl+F finds in rows not drawn, Enter walks the hits, Escape puts the caret on the hit', async ({ page }) => {
  await logIn(page, ARCHITECT);
  await longShopMap(page, 300, 'e2e: 300 rows to find in');
  await page.goto('/maps/map_shop');
  await wholeMap(page);
  await expect(page.locator('tr[data-row=r287]')).toHaveCount(0);

  await page.keyboard.press('Control+f');
  const bar = page.getByTestId('find-bar');
  const query = page.getByTestId('find-query');
  const count = page.getByTestId('find-count');
  await expect(query).toBeFocused();
  // Case does not matter; the row was not in the page.
  await query.fill('событие №287');
  await expect(count).toHaveText('1 of 1');
  const hit = page.locator('td[data-found]');
  await expect(hit).toHaveCount(1);
  await expect(page.locator('tr[data-row=r287] td[data-found] textarea[data-field=event]')).toBeInViewport();
  await page.screenshot({ path: 'end2end/screenshots/map-find.png' });

  // «№28»: rows 28 and 280–289, in the table's order; Enter and
  // Shift+Enter walk them and go round at the ends.
  await query.fill('№28');
  await expect(count).toHaveText('1 of 11');
  await expect(page.locator('tr[data-row=r28] td[data-found]')).toBeInViewport();
  await query.press('Enter');
  await expect(count).toHaveText('2 of 11');
  await expect(page.locator('tr[data-row=r280] td[data-found]')).toBeInViewport();
  await query.press('Shift+Enter');
  await query.press('Shift+Enter');
  await expect(count).toHaveText('11 of 11');
  await expect(page.locator('tr[data-row=r289] td[data-found]')).toBeInViewport();
  await expect(query).toBeFocused();

  // Escape: the bar closes and the caret is on the hit, its text selected,
  // so typing replaces it.
  await query.press('Escape');
  await expect(bar).toHaveCount(0);
  const cell = page.locator('tr[data-row=r289] textarea[data-field=event]');
  await expect(cell).toBeFocused();
  expect(await cell.evaluate((el: HTMLTextAreaElement) => el.value.substring(el.selectionStart, el.selectionEnd))).toBe('№28');
  await page.keyboard.type('N');
  await expect(cell).toHaveValue('Событие N9');

  // Ctrl+F under a Russian layout (the F key types «а») opens the bar
  // again; the count follows the edit.
  await cell.evaluate((el) => el.dispatchEvent(new KeyboardEvent('keydown', { key: 'а', code: 'KeyF', ctrlKey: true, bubbles: true })));
  await expect(query).toBeFocused();
  await expect(query).toHaveValue('№28');
  await expect(count).toHaveText(/ of 10$/);
  await query.fill('нет такого текста');
  await expect(count).toHaveText('No matches');
  await expect(page.locator('td[data-found]')).toHaveCount(0);
  await page.getByTestId('find-close').click();
  await expect(bar).toHaveCount(0);
});

test('an edit typed while a save is on its way stays unsaved and goes with the next save', async ({ page }) => {
  await logIn(page, ANALYST);
  await openCjm(page);
  // The save takes a while to answer.
  await page.route('**/api/maps/save-changes', async (route) => {
    await new Promise((r) => setTimeout(r, 800));
    await route.continue();
  });
  const goal = cell(page, 0, 'goal');
  const needs = cell(page, 1, 'goal');
  await goal.fill('Цель, сохранённая первой (e2e)');
  await page.getByTestId('save-map').click();
  await needs.fill('Цель, набранная во время сохранения (e2e)');
  await expect(page.getByTestId('saved')).toBeVisible();
  // Saved is what was sent; the later edit is still unsaved.
  await expect(page.getByTestId('unsaved')).toBeVisible();
  await page.unroute('**/api/maps/save-changes');
  await page.getByTestId('save-map').click();
  await expect(page.getByTestId('unsaved')).toHaveCount(0);
  const headers = { Origin: BASE };
  const loaded = await (await page.request.post(`${BASE}/api/maps/get`, { form: { map_id: CJM, version: '0' }, headers })).json();
  const stages = JSON.parse(loaded.content).stages;
  expect(stages[0].goal).toBe('Цель, сохранённая первой (e2e)');
  expect(stages[1].goal).toBe('Цель, набранная во время сохранения (e2e)');
});
