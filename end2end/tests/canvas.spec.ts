// The scenario canvas, as an architect uses it on the demo shop bot: open
// `order_delivered` (ask for a rating → thanks, or done on silence), switch
// to the canvas, add a reminder step from the palette, link the ask's
// silence branch to it (the canvas asks which link), fill it in the side
// panel, undo and redo, drag, select several, zoom, auto-layout and save;
// the positions come back with the version. Then the dry run previews the
// saved version through the integration API, a real call starts a run, and
// the trace overlay shows it waiting at the ask.
//
// Like maps.spec.ts, this spec starts its own `comops serve --demo` on a
// fresh database (port 3419), with an architect and a token made by the
// real CLI, and stops that process only.
import { test, expect, Page } from '@playwright/test';
import { OwnServer, startOwnServer } from './own-server';
import { chooseLanguage, drag, hydrated } from './helpers';

const PORT = Number(process.env.COMOPS_E2E_CANVAS_PORT ?? 3419);
const BASE = `http://127.0.0.1:${PORT}`;
const ARCHITECT = { email: 'architect@comops.local', password: 'e2e-architect-password' };

test.describe.configure({ mode: 'serial' });
test.use({ baseURL: BASE, viewport: { width: 1600, height: 1000 } });

let own: OwnServer | undefined;
let token = '';

test.beforeAll(async () => {
  own = await startOwnServer({ name: 'canvas', port: PORT, users: [{ ...ARCHITECT, role: 'architect' }], tokens: [{ name: 'CRM shop', bots: 'bot_shop', actions: 'call,dry_run,admin_read,admin_write' }] });
  token = own.tokens[0];
  expect(token).toMatch(/^comops_/);
});

test.afterAll(() => own?.stop());

async function logIn(page: Page) {
  await page.goto('/login');
  await hydrated(page);
  await page.locator('input[name=email]').fill(ARCHITECT.email);
  await page.locator('input[name=password]').fill(ARCHITECT.password);
  await page.locator('button[type=submit]').click();
  await page.waitForURL('**/projects');
  await hydrated(page);
  await chooseLanguage(page, 'en');
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
}

async function openCanvas(page: Page) {
  await page.goto('/scenarios?bot=bot_shop&name=order_delivered');
  await hydrated(page);
  await page.getByTestId('view-canvas').click();
  await expect(page.getByTestId('canvas-view')).toBeVisible();
  // The canvas is 70 % of the viewport high: bring all of it on screen.
  await page.getByTestId('canvas').evaluate((el) => el.scrollIntoView({ block: 'center' }));
}

const node = (page: Page, id: string) => page.locator(`[data-node="${id}"]`);
const edge = (page: Page, from: string, field: string) => page.locator(`[data-edge="${from}.${field}"]`);

async function centre(page: Page, selector: string) {
  const box = await page.locator(selector).boundingBox();
  if (!box) throw new Error(`${selector} is not on screen`);
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

test('an architect edits order_delivered on the canvas, saves it, dry-runs it and sees a real run on the overlay', async ({ page }) => {
  await logIn(page);
  await openCanvas(page);
  for (const id of ['rate', 'thanks', 'reviewed', 'done']) await expect(node(page, id)).toBeVisible();
  await expect(edge(page, 'rate', 'on_no_reply')).toHaveAttribute('data-to', 'done');

  // A new step from the palette opens in the side panel.
  await page.getByTestId('palette-message').click();
  await expect(node(page, 'message')).toBeVisible();
  const form = page.getByTestId('step-form');
  await expect(form.locator('input[name=id]')).toHaveValue('message');

  // Link the ask's silence branch to it: an ask has three links, so the canvas asks.
  await drag(page, await centre(page, '[data-port="rate"]'), await centre(page, '[data-node="message"] rect'));
  const choice = page.getByTestId('link-choice');
  await expect(choice).toContainText('rate → message');
  await choice.locator('[data-link=on_no_reply]').click();
  await expect(edge(page, 'rate', 'on_no_reply')).toHaveAttribute('data-to', 'message');

  // Fill it in the side panel (the step form of the Steps view).
  await form.locator('input[name=id]').fill('remind');
  await form.locator('textarea[name=text]').fill('Напоминаем: оцените доставку, пожалуйста');
  await form.locator('input[name=next]').fill('done');
  await form.locator('input[name=next]').press('Enter');
  await expect(node(page, 'remind')).toBeVisible();
  await expect(edge(page, 'rate', 'on_no_reply')).toHaveAttribute('data-to', 'remind');
  await expect(edge(page, 'remind', 'next')).toHaveAttribute('data-to', 'done');
  await expect(page.getByTestId('problems')).toBeHidden();

  // Undo the form's edit, then redo it (keys on the focused canvas).
  const canvas = page.getByTestId('canvas');
  await canvas.focus();
  await page.keyboard.press('Control+z');
  await expect(node(page, 'message')).toBeVisible();
  await expect(node(page, 'remind')).toHaveCount(0);
  await page.keyboard.press('Control+Shift+z');
  await expect(node(page, 'remind')).toBeVisible();
  await expect(page.getByTestId('canvas-undo')).toBeEnabled();

  // Drag a node: only its position changes; Ctrl+Y after an undo puts it back.
  const before = await node(page, 'done').getAttribute('transform');
  const at = await centre(page, '[data-node="done"] rect');
  await drag(page, at, { x: at.x + 90, y: at.y + 70 });
  const moved = await node(page, 'done').getAttribute('transform');
  expect(moved).not.toEqual(before);
  await page.keyboard.press('Control+z');
  await expect(node(page, 'done')).toHaveAttribute('transform', before!);
  await page.keyboard.press('Control+y');
  await expect(node(page, 'done')).toHaveAttribute('transform', moved!);

  // Shift-click selects several; Escape clears; a shift-drag on empty space selects by band.
  await page.keyboard.down('Shift');
  await node(page, 'thanks').locator('rect').first().click();
  await node(page, 'reviewed').locator('rect').first().click();
  await page.keyboard.up('Shift');
  await expect(node(page, 'thanks').locator('rect').first()).toHaveClass(/fill-sky-50/);
  await expect(node(page, 'reviewed').locator('rect').first()).toHaveClass(/fill-sky-50/);
  await expect(form).toBeHidden();

  // Zoom with the keys, then auto-layout (L) and fit (0).
  const zoom = page.getByTestId('canvas-zoom');
  const zoomBefore = await zoom.textContent();
  await canvas.focus();
  await page.keyboard.press('Escape');
  await page.keyboard.press('+');
  await expect(zoom).not.toHaveText(zoomBefore!);
  await page.keyboard.press('l');
  await expect(node(page, 'done')).not.toHaveAttribute('transform', moved!);
  await page.keyboard.press('0');
  await page.screenshot({ path: 'end2end/screenshots/canvas.png', fullPage: true });
  const laidOut = await node(page, 'remind').getAttribute('transform');

  // Save: the version keeps the steps and the positions.
  await page.getByTestId('save-scenario').click();
  await page.getByTestId('note-form').locator('input[name=note]').fill('remind on silence');
  await page.getByTestId('note-form').locator('input[name=note]').press('Enter');
  await expect(page.getByTestId('save-message')).toContainText('Saved as version 2');

  // Both views edit the same value: the step table has the new step.
  await page.getByTestId('view-steps').click();
  await expect(page.locator('[data-step=remind]')).toContainText('next → done');
  await page.getByTestId('view-json').click();
  await expect(page.locator('textarea[name=scenario-json]')).toHaveValue(/"layout"/);

  await openCanvas(page);
  await expect(page.getByTestId('base-version')).toHaveText('v2');
  await expect(node(page, 'remind')).toHaveAttribute('transform', laidOut!);

  // The dry run of the saved version: rendered, nothing sent.
  const params = { orderId: 9821, userId: '54321' };
  const linked = await page.request.post(`${BASE}/bots/bot_shop/identities`, {
    headers: { Authorization: `Bearer ${token}` },
    data: { userId: 54321, channel: 'telegram', chatId: 7001 },
  });
  expect(linked.status()).toBe(200);
  const dry = await page.request.post(`${BASE}/bots/bot_shop/call/order/delivered`, {
    headers: { Authorization: `Bearer ${token}`, 'X-Dry-Run': 'true' },
    data: params,
  });
  expect(dry.status()).toBe(200);
  expect(JSON.stringify(await dry.json())).toContain('Оцените доставку');

  // A real call: the run stops at `rate` — the demo bot has no Telegram
  // token, so the question cannot be delivered and the ask has no
  // delivery-failed branch — and the overlay says so.
  const live = await page.request.post(`${BASE}/bots/bot_shop/call/order/delivered`, {
    headers: { Authorization: `Bearer ${token}` },
    data: params,
  });
  expect(live.status()).toBe(200);
  const overlay = page.getByTestId('trace-overlay');
  await expect(async () => {
    await overlay.uncheck();
    await overlay.check();
    await expect(node(page, 'rate').getByTestId('trace-badge')).toHaveAttribute('data-ended', '1', { timeout: 1_000 });
  }).toPass({ timeout: 20_000 });
  await expect(node(page, 'rate').getByTestId('trace-badge')).toHaveAttribute('data-passed', '1');
  await expect(page.getByTestId('trace-summary')).toContainText('v2: 1 runs');
  await expect(node(page, 'remind').getByTestId('trace-badge')).toHaveCount(0);
  await page.screenshot({ path: 'end2end/screenshots/canvas-trace.png', fullPage: true });
});

test('a step with one link connects without asking, and Delete removes the selection', async ({ page }) => {
  await logIn(page);
  await openCanvas(page);
  await page.getByTestId('palette-end').click();
  await expect(node(page, 'end')).toBeVisible();
  await page.getByTestId('palette-message').click();
  await expect(node(page, 'message')).toBeVisible();
  await drag(page, await centre(page, '[data-port="message"]'), await centre(page, '[data-node="end"] rect'));
  await expect(page.getByTestId('link-choice')).toHaveCount(0);
  await expect(edge(page, 'message', 'next')).toHaveAttribute('data-to', 'end');

  // Select both new nodes with a rubber band around them, then delete them.
  const a = await page.locator('[data-node="message"] rect').first().boundingBox();
  const b = await page.locator('[data-node="end"] rect').first().boundingBox();
  const x0 = Math.min(a!.x, b!.x) - 8;
  const y0 = Math.min(a!.y, b!.y) - 8;
  const x1 = Math.max(a!.x + a!.width, b!.x + b!.width) + 8;
  const y1 = Math.max(a!.y + a!.height, b!.y + b!.height) + 8;
  await page.getByTestId('canvas').focus();
  await page.keyboard.press('Escape');
  await drag(page, { x: x0, y: y0 }, { x: x1, y: y1 }, true);
  await expect(node(page, 'message').locator('rect').first()).toHaveClass(/fill-sky-50/);
  await expect(node(page, 'end').locator('rect').first()).toHaveClass(/fill-sky-50/);
  await page.keyboard.press('Delete');
  await expect(node(page, 'message')).toHaveCount(0);
  await expect(node(page, 'end')).toHaveCount(0);
  await expect(node(page, 'rate')).toBeVisible();
  await expect(page.getByTestId('unsaved')).toBeVisible();
});

/** The middle of an edge's curve, on screen. */
async function edgeMiddle(page: Page, from: string, field: string) {
  return edge(page, from, field).locator('[data-testid=edge-hit]').evaluate((path: SVGPathElement) => {
    const at = path.getPointAtLength(path.getTotalLength() / 2);
    const screen = new DOMPoint(at.x, at.y).matrixTransform(path.getScreenCTM()!);
    return { x: screen.x, y: screen.y };
  });
}

test('a click selects one link, Delete removes it, the step form follows and undo brings it back', async ({ page }) => {
  await logIn(page);
  await openCanvas(page);
  // Version 2 (saved by the first test): the ask's silence branch goes to the reminder.
  await expect(edge(page, 'rate', 'on_no_reply')).toHaveAttribute('data-to', 'remind');
  await expect(edge(page, 'rate', 'next')).toHaveAttribute('data-to', 'thanks');

  // An optional link: dropped; the ask's other links and every step stay.
  const middle = await edgeMiddle(page, 'rate', 'on_no_reply');
  await page.mouse.click(middle.x, middle.y);
  await expect(edge(page, 'rate', 'on_no_reply')).toHaveAttribute('data-selected', 'true');
  const form = page.getByTestId('step-form');
  await expect(form.locator('input[name=id]')).toHaveValue('rate');
  await expect(form.locator('input[name=on_no_reply]')).toHaveValue('remind');
  await page.getByTestId('canvas').focus();
  await page.keyboard.press('Delete');
  await expect(edge(page, 'rate', 'on_no_reply')).toHaveCount(0);
  await expect(form.locator('input[name=on_no_reply]')).toHaveValue('');
  await expect(edge(page, 'rate', 'next')).toHaveAttribute('data-to', 'thanks');
  for (const id of ['rate', 'thanks', 'remind', 'done']) await expect(node(page, id)).toBeVisible();
  await expect(page.getByTestId('unsaved')).toBeVisible();
  // The reminder was reached only through that link: the checks say so.
  await expect(page.getByTestId('problems')).toContainText('remind');
  await page.screenshot({ path: 'end2end/screenshots/canvas-edge-deleted.png', fullPage: true });

  // Undo puts the link back, and the form shows it again.
  await page.getByTestId('canvas').focus();
  await page.keyboard.press('Control+z');
  await expect(edge(page, 'rate', 'on_no_reply')).toHaveAttribute('data-to', 'remind');
  await expect(page.getByTestId('problems')).toBeHidden();

  // A required link (the ask's answer) is emptied: the checks name the step.
  const answer = await edgeMiddle(page, 'rate', 'next');
  await page.mouse.click(answer.x, answer.y);
  await expect(edge(page, 'rate', 'next')).toHaveAttribute('data-selected', 'true');
  await page.getByTestId('canvas').focus();
  await page.keyboard.press('Backspace');
  await expect(edge(page, 'rate', 'next')).toHaveCount(0);
  await expect(form.locator('input[name=next]')).toHaveValue('');
  await expect(page.getByTestId('problems')).toContainText('rate · Next step');
  await page.getByTestId('canvas-undo').click();
  await expect(edge(page, 'rate', 'next')).toHaveAttribute('data-to', 'thanks');
  await expect(page.getByTestId('problems')).toBeHidden();

  // Escape drops the edge selection: Delete then removes nothing.
  const again = await edgeMiddle(page, 'rate', 'next');
  await page.mouse.click(again.x, again.y);
  await page.getByTestId('canvas').focus();
  await page.keyboard.press('Escape');
  await expect(edge(page, 'rate', 'next')).toHaveAttribute('data-selected', 'false');
  await page.keyboard.press('Delete');
  await expect(edge(page, 'rate', 'next')).toHaveAttribute('data-to', 'thanks');
  await expect(node(page, 'rate')).toBeVisible();
});
