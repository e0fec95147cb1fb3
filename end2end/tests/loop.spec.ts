// The ComOps loop view on the demo project, as a viewer reads it: from the
// maps list to /maps/loop, nodes of every kind in their columns, the CJM
// stage «Регистрация» lit up down to the REHAU row, the /users/connect-bot
// endpoint and its registration_flow scenario; gaps marked and counted
// (stages no row names, rows bound to no endpoint, endpoints without a
// scenario); arrow keys, Escape, the endpoint's docs, opening a map row
// in the map editor, and the page in Russian.
//
// Like maps.spec.ts, it starts its own `comops serve --demo` on a fresh
// database (port 3422) with a viewer made by the real CLI, and stops that
// process only.
import { test, expect, Page } from '@playwright/test';
import { OwnServer, startOwnServer } from './own-server';
import { hydrated, logIn } from './helpers';

const PORT = Number(process.env.COMOPS_E2E_LOOP_PORT ?? 3422);
const BASE = `http://127.0.0.1:${PORT}`;
const VIEWER = { email: 'viewer@comops.local', password: 'e2e-viewer-password' };
const STAGE = 'map_registration-cjm#registration';
const ROW = 'map_rehau#r1';
const ENDPOINT = 'endpoint:bot_rehau/users/connect-bot';
const SCENARIO = 'scenario:bot_rehau/registration_flow';

test.describe.configure({ mode: 'serial' });
test.use({ baseURL: BASE, viewport: { width: 1600, height: 1000 } });

let own: OwnServer | undefined;

test.beforeAll(async () => {
  own = await startOwnServer({ name: 'loop', port: PORT, users: [{ ...VIEWER, role: 'viewer' }] });
});

test.afterAll(() => own?.stop());

const node = (page: Page, key: string) => page.locator(`[data-node="${key}"]`).first();

async function openLoop(page: Page) {
  await logIn(page, VIEWER);
  await page.locator('[data-lang=en]').click();
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  await page.goto('/maps');
  await hydrated(page);
  await page.getByTestId('open-loop').click();
  await page.waitForURL('**/maps/loop?project=*');
  await expect(page.getByTestId('loop-canvas')).toBeVisible();
  await page.getByTestId('loop-canvas').evaluate((el) => el.scrollIntoView({ block: 'center' }));
}

test('a viewer sees the whole loop and the chain of a CJM stage', async ({ page }) => {
  await openLoop(page);
  await expect(page.getByTestId('loop-title')).toHaveText('ComOps loop');
  for (const kind of ['cjm_stage', 'comm_row', 'blueprint_stage', 'blueprint_cell', 'integration_row', 'endpoint', 'scenario']) {
    expect(await page.locator(`g[data-kind=${kind}]`).count(), kind).toBeGreaterThan(0);
    await expect(page.locator(`[data-legend=${kind}]`)).toBeVisible();
  }
  // Live figures ride on the endpoint nodes.
  await expect(node(page, ENDPOINT)).toHaveAttribute('data-live', '0');

  // Gaps: marked on their nodes, counted at the top.
  await expect(node(page, 'map_registration-cjm#retention')).toHaveAttribute('data-gap', 'no_row');
  await expect(node(page, 'map_registration-cjm#retention').getByTestId('gap-mark')).toBeVisible();
  await expect(node(page, 'map_registration#r1')).toHaveAttribute('data-gap', 'no_endpoint');
  await expect(node(page, 'endpoint:bot_rehau/feedback/received')).toHaveAttribute('data-gap', 'no_scenario');
  await expect(node(page, STAGE)).not.toHaveAttribute('data-gap', /.+/);
  await expect(page.getByTestId('gap-no_row')).toHaveAttribute('data-count', '2');
  await expect(page.getByTestId('gap-no_endpoint')).toHaveAttribute('data-count', '3');
  await expect(page.getByTestId('gap-no_scenario')).toHaveAttribute('data-count', '4');
  await expect(page.getByTestId('gap-not_live')).toHaveAttribute('data-count', '0');

  // Selecting the stage lights up its chain down to an endpoint and a scenario.
  await node(page, STAGE).click();
  await expect(node(page, STAGE)).toHaveAttribute('data-selected', 'true');
  for (const key of [STAGE, ROW, 'map_onboarding-blueprint#registration', 'map_onboarding-blueprint#registration:support', ENDPOINT, SCENARIO]) {
    await expect(node(page, key), key).toHaveAttribute('data-on-chain', 'true');
  }
  for (const key of ['map_registration-cjm#awareness', 'map_shop#r1', 'endpoint:bot_shop/order/thank-you']) {
    await expect(node(page, key), key).toHaveAttribute('data-on-chain', 'false');
  }
  expect(await page.locator('path[data-on-chain=true]').count()).toBeGreaterThan(4);
  const panel = page.getByTestId('loop-panel');
  await expect(panel).toHaveAttribute('data-node', STAGE);
  await expect(page.getByTestId('loop-panel-label')).toHaveText('Регистрация');
  await expect(panel.getByTestId('loop-downstream')).toContainText('Монтажник зарегистрировался на портале');
  await expect(page.getByTestId('loop-chain-count')).toContainText('nodes on the chain');
  await page.screenshot({ path: 'end2end/screenshots/loop.png' });

  // The keyboard: right goes to a row naming the stage; Escape clears.
  await page.keyboard.press('ArrowRight');
  await expect(panel).toHaveAttribute('data-node', /^map_(rehau|registration)#r\d$/);
  await page.keyboard.press('Escape');
  await expect(panel).toHaveCount(0);
  await expect(node(page, STAGE)).toHaveAttribute('data-on-chain', 'false');

  // A gap count selects its nodes in turn.
  await page.getByTestId('gap-no_scenario').click();
  await expect(page.getByTestId('loop-gap-note')).toContainText('starts no scenario');

  // The endpoint: its figures, its docs (outside the studio) and traces.
  // (Escape first: the side panel floats over the right-hand columns.)
  await page.keyboard.press('Escape');
  await node(page, ENDPOINT).click();
  await expect(page.getByTestId('loop-live')).toContainText('0 calls');
  await expect(page.getByTestId('loop-docs')).toHaveAttribute('href', '/docs/bot_rehau');
  await expect(page.getByTestId('loop-docs')).toHaveAttribute('rel', 'external');
  await expect(page.getByTestId('loop-traces')).toHaveAttribute('href', '/traces?endpoint=users/connect-bot&bot=bot_rehau');
  // Its scenario is a link away, and opens in the scenario editor.
  await page.getByTestId('loop-downstream').locator('[data-link-kind=scenario]').click();
  await expect(panel).toHaveAttribute('data-node', SCENARIO);
  await expect(page.getByTestId('loop-open')).toHaveAttribute('href', '/scenarios?bot=bot_rehau&name=registration_flow');

  // Back up to the row, and open it in the map editor.
  await node(page, ROW).click();
  await expect(page.getByTestId('loop-upstream')).toContainText('Регистрация');
  await page.getByTestId('loop-open').click();
  await page.waitForURL('**/maps/map_rehau');
  await hydrated(page);
  await expect(page.getByTestId('map-table')).toBeVisible();
});

test('Enter opens the selected node, and the page speaks Russian', async ({ page }) => {
  await openLoop(page);
  await page.locator('[data-lang=ru]').click();
  await expect(page.locator('html')).toHaveAttribute('lang', 'ru');
  await expect(page.getByTestId('loop-title')).toHaveText('Петля ComOps');
  await expect(page.locator('[data-legend=cjm_stage]')).toHaveText('Этап CJM');
  await expect(page.locator('[data-legend=endpoint]')).toHaveText('Эндпоинт');
  await expect(page.getByTestId('gap-no_row')).toContainText('Этапы CJM без строки карты');
  await node(page, 'map_registration-cjm#retention').click();
  await expect(page.getByTestId('loop-gap-note')).toHaveText('Ни одна строка карты коммуникаций не ссылается на этот этап.');
  await page.screenshot({ path: 'end2end/screenshots/loop-ru.png' });
  await page.getByTestId('loop-canvas').focus();
  await page.keyboard.press('Enter');
  await page.waitForURL('**/maps/map_registration-cjm');
  await hydrated(page);
  await expect(page.getByTestId('map-table')).toBeVisible();
});
