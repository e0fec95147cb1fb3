// Integration points in the studio: an architect's endpoint with a request
// schema, JSON export and import; an admin's API token shown once and
// revoked; the trace log, fed by a real call when the call route answers.
import { test, expect, Page } from '@playwright/test';
import { ADMIN, VIEWER, chooseLanguage, hydrated, logIn } from './helpers';

test.describe.configure({ mode: 'serial' });

async function openEndpoints(page: Page, bot: string) {
  await page.goto(`/endpoints?bot=${bot}`);
  await hydrated(page);
  await expect(page.getByTestId('endpoints-table')).toHaveAttribute('data-bot', bot);
}

test('an endpoint order/thank-you is created with its schema, checked, exported and re-imported', async ({ page }) => {
  await logIn(page, ADMIN);
  await openEndpoints(page, 'bot_shop');
  await expect(page.getByTestId('no-endpoints')).toBeVisible();
  await expect(page.getByTestId('bot-docs')).toHaveAttribute('href', '/docs/bot_shop');

  await page.getByTestId('new-endpoint').click();
  const form = page.getByTestId('endpoint-form');
  await form.locator('input[name=alias]').fill('Order Thank You');
  await form.locator('input[name=description]').fill('CRM: the order is paid');
  await form.locator('input[name=owner]').fill('CRM team');
  await form.locator('input[name=scenario]').fill('thank_you');
  await form.getByTestId('add-field').click();
  await form.getByTestId('add-field').click();
  const first = form.locator('[data-schema-row="0"]');
  const second = form.locator('[data-schema-row="1"]');
  await first.locator('input[name=schema-name]').fill('order id');
  await first.locator('select[name=schema-type]').selectOption('integer');
  await first.locator('input[name=schema-required]').check();
  await second.locator('input[name=schema-name]').fill('user_id');
  await second.locator('input[name=schema-required]').check();
  await form.locator('textarea[name=example]').fill('{"order_id": 9821, "user_id": "54321"}');
  await form.locator('input[name=alias]').press('Enter');
  await expect(form.locator('[data-error-for=alias]')).toHaveText("Lowercase segments joined by '/', e.g. order/thank-you.");
  await expect(form.locator('[data-error-for="schema.fields[0].name"]')).toBeVisible();
  // What was typed survives the rejected save.
  await expect(second.locator('input[name=schema-name]')).toHaveValue('user_id');
  await page.screenshot({ path: 'end2end/screenshots/endpoint-form.png', fullPage: true });

  await form.locator('input[name=alias]').fill('order/thank-you');
  await first.locator('input[name=schema-name]').fill('order_id');
  await form.locator('input[name=alias]').press('Enter');
  const row = page.locator('[data-endpoint="order/thank-you"]');
  await expect(row).toContainText('CRM: the order is paid');
  await expect(row).toContainText('Enabled');
  await expect(form).toBeHidden();
  // The bot has no scenario thank_you yet: the row says so.
  await expect(row.getByTestId('scenario-missing')).toHaveText('no such scenario');

  // Edit in place: disable it, then Escape leaves another edit untouched.
  await row.getByTestId('edit').click();
  await row.locator('input[name=enabled]').uncheck();
  await row.locator('input[name=owner]').press('Enter');
  await expect(page.locator('[data-endpoint="order/thank-you"]')).toContainText('Disabled');
  await page.locator('[data-endpoint="order/thank-you"]').getByTestId('edit').click();
  const editing = page.locator('[data-endpoint="order/thank-you"]');
  await expect(editing.locator('[data-schema-row="1"] input[name=schema-name]')).toHaveValue('user_id');
  await editing.locator('input[name=enabled]').check();
  await editing.locator('input[name=owner]').press('Enter');
  await expect(page.locator('[data-endpoint="order/thank-you"]')).toContainText('Enabled');
  await page.locator('[data-endpoint="order/thank-you"]').getByTestId('edit').click();
  await page.locator('[data-endpoint="order/thank-you"] input[name=alias]').press('Escape');
  await expect(page.locator('[data-endpoint="order/thank-you"] input[name=alias]')).toHaveCount(0);
  await page.screenshot({ path: 'end2end/screenshots/endpoints.png', fullPage: true });

  // "Send test event": the example goes through the call's checks as a dry
  // run. Nobody is linked to user 54321 and there is no scenario yet: said
  // so, with the call's trace one click away. A body without the required
  // order id gets the API's 422 and names the field; Ctrl+Enter sends.
  await page.locator('[data-endpoint="order/thank-you"]').getByTestId('endpoint-test-toggle').click();
  const tester = page.locator('[data-test-of="order/thank-you"]');
  await expect(tester.getByTestId('test-event-body')).toHaveValue(/"order_id": 9821/);
  await tester.getByTestId('test-event-send').click();
  const answer = tester.getByTestId('test-event-answer');
  await expect(answer).toHaveAttribute('data-status', '200');
  await expect(answer.getByTestId('test-event-message')).toHaveText('Dry run: validated, nothing sent');
  await expect(answer.getByTestId('test-event-recipients')).toContainText('Not found: 54321');
  await expect(answer.getByTestId('test-event-note')).toHaveText('Scenario thank_you does not exist yet');
  await expect(answer.getByTestId('test-event-trace')).toHaveAttribute('href', /\/traces\?trace_id=[0-9a-f]{32}$/);
  await tester.getByTestId('test-event-body').fill('{"user_id": "54321"}');
  await tester.getByTestId('test-event-body').press('Control+Enter');
  await expect(answer).toHaveAttribute('data-status', '422');
  await expect(answer.getByTestId('test-event-problems')).toContainText('order_id: is required');
  // In Russian, the API's fixed words are said in Russian (its English in the tooltip).
  await chooseLanguage(page, 'ru');
  await expect(answer.getByTestId('test-event-message')).toHaveText('Запрос не соответствует схеме эндпоинта');
  await expect(answer.getByTestId('test-event-message')).toHaveAttribute('title', 'Request does not match the endpoint schema');
  await expect(answer.getByTestId('test-event-problems')).toContainText('order_id: обязательное поле');
  await chooseLanguage(page, 'en');
  await page.screenshot({ path: 'end2end/screenshots/endpoint-test-event.png', fullPage: true });
  await page.locator('[data-endpoint="order/thank-you"]').getByTestId('endpoint-test-toggle').click();
  await expect(tester).toHaveCount(0);

  // Export, then import the same document: one endpoint updated.
  await page.getByTestId('export-endpoints').click();
  const exported = page.getByTestId('export-json');
  await expect(exported).toHaveValue(/comops\.endpoints\/v1/);
  const json = await exported.inputValue();
  const doc = JSON.parse(json);
  expect(doc.bot_id).toBe('bot_shop');
  expect(doc.endpoints[0].schema.fields.map((f: { name: string }) => f.name)).toEqual(['order_id', 'user_id']);

  await page.getByTestId('import-endpoints').click();
  const importForm = page.getByTestId('import-form');
  const broken = { ...doc, endpoints: [...doc.endpoints, { ...doc.endpoints[0], alias: 'Bad Alias' }] };
  await importForm.locator('textarea[name=import]').fill(JSON.stringify(broken));
  await importForm.getByRole('button', { name: 'Import' }).click();
  await expect(importForm.getByTestId('import-error')).toContainText('endpoints[1].alias');

  const copy = { ...doc, endpoints: [...doc.endpoints, { ...doc.endpoints[0], alias: 'order/status', description: 'Status changed' }] };
  await importForm.locator('textarea[name=import]').fill(JSON.stringify(copy));
  await importForm.getByRole('button', { name: 'Import' }).click();
  await expect(importForm.getByTestId('import-result')).toHaveText('Imported: created 1, updated 0, unchanged 1.');
  await expect(page.locator('[data-endpoint="order/status"]')).toContainText('Status changed');
  // The filter box keeps the rows whose alias, description, owner or scenario has the text.
  await page.getByTestId('endpoint-filter').fill('STATUS');
  await expect(page.locator('[data-endpoint="order/thank-you"]')).toBeHidden();
  await expect(page.locator('[data-endpoint="order/status"]')).toBeVisible();
  await page.getByTestId('endpoint-filter').fill('');
  await expect(page.locator('[data-endpoint="order/thank-you"]')).toBeVisible();

  // Delete with an inline confirm.
  const status = page.locator('[data-endpoint="order/status"]');
  await status.getByTestId('delete').click();
  await status.getByTestId('confirm-delete').click();
  await expect(page.locator('[data-endpoint="order/status"]')).toHaveCount(0);
  await expect(page.locator('[data-endpoint="order/thank-you"]')).toBeVisible();

  // The bot picker moves the page (and the query string) to another bot.
  await page.getByTestId('bot-select').selectOption('bot_rehau');
  await expect(page).toHaveURL(/\/endpoints\?bot=bot_rehau/);
  await expect(page.getByTestId('endpoints-table')).toHaveAttribute('data-bot', 'bot_rehau');
  await expect(page.getByTestId('no-endpoints')).toBeVisible();
});

test('a long endpoint list pages, the filter looks through every page, and an endpoint names its block report', async ({ page }) => {
  await logIn(page, ADMIN);
  await openEndpoints(page, 'bot_helpdesk');
  const aliases = Array.from({ length: 60 }, (_, i) => `ticket/p${String(i + 1).padStart(2, '0')}`);
  const doc = {
    format: 'comops.endpoints/v1',
    bot_id: 'bot_helpdesk',
    endpoints: aliases.map((alias) => ({ alias, scenario: 'ticket_notice', enabled: true, on_blocked: alias === 'ticket/p55' ? 'report_blocked' : '' })),
  };
  await page.getByTestId('import-endpoints').click();
  const importForm = page.getByTestId('import-form');
  await importForm.locator('textarea[name=import]').fill(JSON.stringify(doc));
  await importForm.getByRole('button', { name: 'Import' }).click();
  await expect(importForm.getByTestId('import-result')).toContainText('created 60');

  const pager = page.getByTestId('pager');
  const row = (alias: string) => page.locator(`[data-endpoint="${alias}"]`);
  await expect(pager.getByTestId('page-range')).toHaveText('1–50 of 60');
  await expect(row('ticket/p01')).toBeVisible();
  await expect(row('ticket/p55')).toBeHidden();
  await expect(pager.getByTestId('previous-page')).toBeDisabled();
  await pager.getByTestId('next-page').click();
  await expect(pager.getByTestId('page-range')).toHaveText('51–60 of 60');
  await expect(row('ticket/p55')).toBeVisible();
  await expect(row('ticket/p01')).toBeHidden();
  await expect(pager.getByTestId('next-page')).toBeDisabled();

  // The filter finds a row on any page; one page of matches needs no pager.
  await page.getByTestId('endpoint-filter').fill('P0');
  await expect(row('ticket/p01')).toBeVisible();
  await expect(row('ticket/p55')).toBeHidden();
  await expect(pager).toHaveCount(0);
  await page.getByTestId('endpoint-filter').fill('');
  await expect(pager.getByTestId('page-range')).toHaveText('51–60 of 60');
  // Another bot's list starts unfiltered on its first page.
  await page.getByTestId('endpoint-filter').fill('p5');
  await page.getByTestId('bot-select').selectOption('bot_shop');
  await expect(page.getByTestId('endpoints-table')).toHaveAttribute('data-bot', 'bot_shop');
  await expect(page.getByTestId('endpoint-filter')).toHaveValue('');
  await page.getByTestId('bot-select').selectOption('bot_helpdesk');
  await expect(pager.getByTestId('page-range')).toHaveText('1–50 of 60');

  // The block report is part of the endpoint: in its form and its docs.
  await page.getByTestId('endpoint-filter').fill('p55');
  await row('ticket/p55').getByTestId('edit').click();
  await expect(row('ticket/p55').locator('input[name=on_blocked]')).toHaveValue('report_blocked');
  await row('ticket/p55').locator('input[name=alias]').press('Escape');
  await page.goto('/docs/bot_helpdesk');
  await expect(page.locator('#ep-ticket--p55')).toContainText('If the person has blocked the bot, this scenario reports it: report_blocked');
});

test('every save of an endpoint is a version: history, diff, an overtaken save merged, restore', async ({ page }) => {
  await logIn(page, ADMIN);
  await openEndpoints(page, 'bot_shop');
  const row = page.locator('[data-endpoint="order/thank-you"]');
  const toggle = row.getByTestId('endpoint-history-toggle');
  // Created, disabled, enabled again; the re-import changed nothing.
  await expect(toggle).toContainText('v3');
  await toggle.click();
  const history = page.locator('[data-history-of="order/thank-you"]');
  await expect(history.locator('[data-version]')).toHaveCount(3);
  await expect(history.locator('[data-version="1"]').getByTestId('version-note')).toHaveText('created');
  await history.locator('[data-version="2"]').getByTestId('diff-prev').click();
  const diff = history.getByTestId('diff');
  await expect(diff.locator('tr[data-change="changed"]')).toHaveCount(1);
  await expect(diff.getByTestId('diff-before')).toHaveText('yes');
  await expect(diff.getByTestId('diff-after')).toHaveText('no');
  await page.screenshot({ path: 'end2end/screenshots/endpoint-history.png', fullPage: true });
  // Any two: v1 and v3 are the same endpoint (disabled, then enabled again).
  const picker = history.getByTestId('compare-form');
  await picker.locator('select[name=from]').selectOption('1');
  await picker.locator('select[name=to]').selectOption('3');
  await picker.getByTestId('compare').click();
  await expect(history.getByTestId('diff')).toHaveAttribute('data-from', '1');
  await expect(history.getByTestId('no-diff')).toBeVisible();

  // A save with a change note is version 4.
  await row.getByTestId('edit').click();
  await row.locator('input[name=description]').fill('CRM: the order is paid in full');
  await row.locator('input[name=note]').fill('Say "in full"');
  await row.locator('input[name=note]').press('Enter');
  await expect(row).toContainText('paid in full');
  await expect(toggle).toContainText('v4');

  // Two editors: the other one saves version 5 while this one edits version 4.
  await row.getByTestId('edit').click();
  await row.locator('input[name=description]').fill('Paid: thank the buyer');
  const other = await page.context().newPage();
  await openEndpoints(other, 'bot_shop');
  const theirs = other.locator('[data-endpoint="order/thank-you"]');
  await theirs.getByTestId('edit').click();
  await theirs.locator('input[name=owner]').fill('Support team');
  await theirs.locator('input[name=owner]').press('Enter');
  await expect(theirs).toContainText('Support team');
  await other.close();

  await row.locator('input[name=description]').press('Enter');
  const conflict = row.getByTestId('conflict');
  await expect(conflict).toContainText('saved a newer version');
  await expect(conflict).toContainText('v5');
  await expect(conflict.getByTestId('diff-after')).toHaveText('Support team');
  await expect(row.locator('input[name=description]')).toHaveValue('Paid: thank the buyer');
  await page.screenshot({ path: 'end2end/screenshots/endpoint-conflict.png', fullPage: true });
  await conflict.getByTestId('conflict-keep').click();
  await expect(row.getByTestId('rebased')).toContainText('v5');
  await expect(row.locator('input[name=owner]')).toHaveValue('Support team');
  await expect(row.locator('input[name=description]')).toHaveValue('Paid: thank the buyer');
  await row.locator('input[name=description]').press('Enter');
  await expect(toggle).toContainText('v6');
  await expect(row).toContainText('Paid: thank the buyer');
  await expect(row).toContainText('Support team');

  // Restoring version 1 saves it again, as version 7.
  await toggle.click();
  await history.locator('[data-version="1"]').getByTestId('restore-version').click();
  await expect(toggle).toContainText('v7');
  await expect(row).toContainText('CRM team');
  await expect(row).not.toContainText('Support team');
  await toggle.click();
  await expect(history.locator('[data-version="7"]').getByTestId('version-note')).toHaveText('restored from v1');
  await expect(history.locator('[data-version="4"]').getByTestId('version-note')).toHaveText('Say "in full"');
});

test('an admin issues a token, sees its secret once, calls with it, traces it and revokes it', async ({ page }) => {
  await logIn(page, ADMIN);
  await page.goto('/tokens');
  await hydrated(page);
  await page.getByTestId('new-token').click();
  const form = page.getByTestId('token-form');
  await form.locator('input[name=name]').fill('CRM shop');
  await form.locator('input[name=bots]').fill('bot_shop');
  await form.locator('input[name=aliases]').fill('order/*');
  await form.locator('input[name=action-call]').uncheck();
  await form.locator('input[name=name]').press('Enter');
  await expect(form.locator('[data-error-for=actions]')).toHaveText('Required.');
  await form.locator('input[name=action-call]').check();
  await form.locator('input[name=action-dry_run]').check();
  await form.locator('input[name=name]').press('Enter');

  const secretBox = page.getByTestId('token-secret');
  await expect(secretBox).toHaveValue(/^comops_/);
  const secret = await secretBox.inputValue();
  const row = page.locator('[data-token="CRM shop"]');
  await expect(row.getByTestId('token-status')).toHaveText('active');
  await expect(row).toContainText('order/*');
  await expect(row).toContainText('call, dry_run');
  await expect(row).toContainText(ADMIN.email);
  await page.getByTestId('token-filter').fill('no such token');
  await expect(row).toBeHidden();
  await page.getByTestId('token-filter').fill('order/');
  await expect(row).toBeVisible();
  await page.getByTestId('token-filter').fill('');
  await page.screenshot({ path: 'end2end/screenshots/tokens.png', fullPage: true });

  // Shown once: a reload does not bring it back, nor does the page's HTML.
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId('token-secret')).toHaveCount(0);
  expect(await page.content()).not.toContain(secret);

  // A real call with the token: accepted, and traced.
  const call = await page.request.post('/bots/bot_shop/call/order/thank-you', {
    headers: { Authorization: `Bearer ${secret}`, 'X-Source-System': 'e2e-crm' },
    data: { order_id: 9821, user_id: '54321' },
  });
  expect(call.status()).toBe(200);
  const body = await call.json();
  await page.goto('/traces');
  await hydrated(page);
  await expect(page.getByTestId('trace-filter')).toBeVisible();
  await page.getByTestId('trace-filter').locator('input[name=endpoint]').fill('order/thank-you');
  await page.getByTestId('apply-filter').click();
  const traced = page.locator(`[data-trace="${body.trace_id}"]`).first();
  await expect(traced).toContainText('e2e-crm');
  // To the second in the table, to the millisecond in its tooltip.
  await expect(traced.getByTestId('trace-time')).toHaveText(/^\d{4}-\d{2}-\d{2}\s\d{2}:\d{2}:\d{2}$/);
  await expect(traced.getByTestId('trace-time')).toHaveAttribute('title', /:\d{2}\.\d{3}$/);
  await traced.getByTestId('trace-link').click();
  await expect(page.getByTestId('trace-timeline')).toContainText(body.trace_id);
  await expect(page.getByTestId('timeline-step').first()).toBeVisible();
  await page.screenshot({ path: 'end2end/screenshots/traces.png', fullPage: true });

  await page.goto('/tokens');
  await hydrated(page);
  const again = page.locator('[data-token="CRM shop"]');
  await again.getByTestId('revoke').click();
  await again.getByTestId('confirm-revoke').click();
  await expect(page.locator('[data-token="CRM shop"]').getByTestId('token-status')).toHaveText('revoked');
  await expect(page.locator('[data-token="CRM shop"]').getByTestId('revoke')).toHaveCount(0);

  // The endpoints table counts every call of an endpoint, refused ones
  // as errors too, and links to its traces.
  const traffic = async () => {
    await page.goto('/endpoints?bot=bot_shop');
    await hydrated(page);
    const cell = page.locator('[data-endpoint="order/thank-you"]').getByTestId('endpoint-traffic');
    await expect(cell.getByTestId('endpoint-traces')).toHaveAttribute('href', '/traces?endpoint=order/thank-you&bot=bot_shop');
    await expect(cell).toContainText(/last \d{4}-\d{2}-\d{2}/);
    return [Number(await cell.getAttribute('data-calls')), Number(await cell.getAttribute('data-errors'))];
  };
  const [calls, errors] = await traffic();
  expect(calls).toBeGreaterThanOrEqual(1);
  const refused = await page.request.post('/bots/bot_shop/call/order/thank-you', {
    headers: { Authorization: `Bearer ${secret}` },
    data: { order_id: 9822, user_id: '54321' },
  });
  expect(refused.status()).toBe(401);
  expect(await traffic()).toEqual([calls + 1, errors + 1]);
  await page.screenshot({ path: 'end2end/screenshots/endpoints-traffic.png', fullPage: true });
});

test('the trace log filters and shows an empty state', async ({ page }) => {
  await logIn(page, VIEWER);
  await page.goto('/traces');
  await hydrated(page);
  const filter = page.getByTestId('trace-filter');
  await expect(filter.locator('select[name=bot_id] option[value=bot_shop]')).toHaveCount(1);
  await filter.locator('select[name=bot_id]').selectOption('bot_shop');
  await filter.locator('input[name=endpoint]').fill('order/thank-you');
  await filter.getByTestId('apply-filter').click();
  await expect(page.getByTestId('traces-table')).toBeVisible();
  await filter.locator('input[name=trace_id]').fill('0123456789abcdef0123456789abcdef');
  await filter.locator('select[name=status]').selectOption('fail');
  await filter.locator('select[name=period]').selectOption('hour');
  await filter.locator('input[name=trace_id]').press('Enter');
  await expect(page.getByTestId('no-traces')).toHaveText('No trace events match.');
  // The applied filter is in the address: a reload keeps it, Back shows
  // the one before, in the rows and in the fields.
  await expect(page).toHaveURL(/\/traces\?trace_id=0123456789abcdef0123456789abcdef&bot=bot_shop&endpoint=order%2Fthank-you&status=fail&period=hour$/);
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId('no-traces')).toBeVisible();
  await expect(filter.locator('select[name=status]')).toHaveValue('fail');
  await expect(filter.locator('select[name=period]')).toHaveValue('hour');
  await expect(filter.locator('input[name=endpoint]')).toHaveValue('order/thank-you');
  await page.goBack();
  await expect(page.getByTestId('no-traces')).toHaveCount(0);
  await expect(filter.locator('input[name=trace_id]')).toHaveValue('');
  await expect(filter.locator('select[name=status]')).toHaveValue('');
  await expect(filter.locator('select[name=bot_id]')).toHaveValue('bot_shop');
  await page.goForward();
  await expect(page.getByTestId('no-traces')).toBeVisible();
  await filter.locator('input[name=trace_id]').press('Escape');
  await expect(filter.locator('input[name=trace_id]')).toHaveValue('');
  await expect(page).toHaveURL(/\/traces$/);
  await expect(page.getByTestId('traces-table')).toBeVisible();
});

test('a viewer reads endpoints but changes none, and may not manage tokens', async ({ page }) => {
  await logIn(page, VIEWER);
  await openEndpoints(page, 'bot_shop');
  await expect(page.locator('[data-endpoint="order/thank-you"]')).toBeVisible();
  await expect(page.getByTestId('new-endpoint')).toHaveCount(0);
  await expect(page.getByTestId('read-only')).toBeVisible();
  await expect(page.locator('[data-endpoint="order/thank-you"]').getByTestId('edit')).toHaveCount(0);

  await page.goto('/tokens');
  await hydrated(page);
  await expect(page.getByTestId('tokens-forbidden')).toContainText('Only admins');
  const result = await page.evaluate(async () => {
    const response = await fetch('/api/tokens/list', { method: 'POST' });
    return response.status;
  });
  expect(result).toBe(403);
});
