// Scenarios and Settings in the studio: an admin creates a scenario for the
// shop bot, adds a greeting with the step form (keyboard only), fixes what
// the checks point at, saves with a note and finds the versions in the
// history; then opens Settings and stores a bot's Telegram credentials,
// which come back only as "set". A viewer gets no credentials page.
import { test, expect, Page } from '@playwright/test';
import { ADMIN, VIEWER, callServer, chooseLanguage, hydrated, logIn } from './helpers';

test.describe.configure({ mode: 'serial' });

/** The journeys assert English texts; another spec may have left Russian on. */
async function inEnglish(page: Page) {
  await chooseLanguage(page, 'en');
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
}

test('a scenario is created, edited step by step, saved with a note and found in the history', async ({ page }) => {
  await logIn(page, ADMIN);
  await inEnglish(page);
  await page.goto('/scenarios?bot=bot_shop');
  await hydrated(page);
  await expect(page.getByTestId('scenarios-table')).toHaveAttribute('data-bot', 'bot_shop');

  await page.getByTestId('new-scenario').click();
  const form = page.getByTestId('scenario-form');
  await form.locator('input[name=name]').fill('Welcome Flow');
  await form.locator('select[name=template]').selectOption('empty');
  await form.locator('input[name=name]').press('Enter');
  await expect(form.locator('[data-error-for=name]')).toBeVisible();
  await form.locator('input[name=name]').fill('welcome_e2e');
  await form.locator('input[name=description]').fill('Greets a new buyer');
  await form.locator('input[name=name]').press('Enter');

  await page.waitForURL('**/scenarios?bot=bot_shop&name=welcome_e2e');
  const editor = page.getByTestId('scenario-editor');
  await expect(editor).toHaveAttribute('data-name', 'welcome_e2e');
  await expect(page.locator('[data-scenario=welcome_e2e] [data-testid=scenario-version]')).toHaveText('v1');
  const steps = editor.getByTestId('steps-table');
  await expect(steps.locator('[data-step=end]')).toBeVisible();

  // Escape closes a step form without changing anything.
  await steps.locator('[data-step=end]').click();
  const stepForm = editor.getByTestId('step-form');
  await expect(stepForm).toBeVisible();
  await stepForm.locator('input[name=goal]').press('Escape');
  await expect(stepForm).toBeHidden();

  // Add a message step; Enter applies the form.
  await editor.locator('select[name=new-step-type]').selectOption('message');
  await editor.getByTestId('add-step-button').click();
  await expect(stepForm).toBeVisible();
  await stepForm.locator('input[name=id]').fill('hello');
  await stepForm.locator('textarea[name=text]').fill('Добро пожаловать, {{ params.name }}!');
  await stepForm.locator('input[name=next]').fill('end');
  await stepForm.locator('input[name=next]').press('Enter');
  await expect(stepForm).toBeHidden();
  const hello = steps.locator('[data-step=hello]');
  await expect(hello).toContainText('Добро пожаловать');
  await expect(hello).toContainText('next → end');
  await expect(editor.getByTestId('unsaved')).toBeVisible();

  // The greeting is not reachable yet: the problem is shown at the step.
  await expect(editor.getByTestId('problems')).toContainText('unreachable');
  await expect(hello.getByTestId('step-problems')).toBeVisible();
  // In Russian too, without losing the unsaved step.
  await chooseLanguage(page, 'ru');
  await expect(page.locator('html')).toHaveAttribute('lang', 'ru');
  await expect(editor.getByTestId('problems')).toContainText('недостижим от начального шага');
  await expect(hello.getByTestId('step-problems')).toContainText('недостижим от начального шага');
  await chooseLanguage(page, 'en');
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  await expect(editor.getByTestId('unsaved')).toBeVisible();
  await hello.getByTestId('make-start').click();
  await expect(editor.getByTestId('problems')).toBeHidden();
  await expect(hello.getByTestId('start-badge')).toBeVisible();

  // Both views edit the same value.
  await editor.getByTestId('view-json').click();
  const json = editor.locator('textarea[name=scenario-json]');
  await expect(json).toHaveValue(/"start": "hello"/);
  await expect(json).toHaveValue(/Добро пожаловать/);
  await editor.getByTestId('view-steps').click();
  await page.screenshot({ path: 'end2end/screenshots/scenario-editor.png', fullPage: true });

  await editor.getByTestId('save-scenario').click();
  const note = editor.getByTestId('note-form');
  await note.locator('input[name=note]').fill('greeting first');
  await note.locator('input[name=note]').press('Enter');
  await expect(editor.getByTestId('save-message')).toHaveText('Saved as version 2.');
  await expect(editor.getByTestId('unsaved')).toBeHidden();

  const history = page.getByTestId('versions');
  await expect(history.locator('[data-version="2"]')).toContainText('greeting first');
  await expect(history.locator('[data-version="1"]')).toContainText('created');
  await expect(page.locator('[data-scenario=welcome_e2e] [data-testid=scenario-version]')).toHaveText('v2');

  // An old version opens read-only, with Restore.
  await history.locator('[data-version="1"]').click();
  const old = page.getByTestId('old-version');
  await expect(old).toHaveAttribute('data-version', '1');
  await expect(old.locator('[data-step=end]')).toBeVisible();
  await expect(old.locator('[data-step=hello]')).toHaveCount(0);
  await expect(old.getByTestId('restore')).toBeVisible();
  // Side by side with the current version: the greeting added, the start moved to it.
  await expect(old.getByTestId('diff-prev')).toHaveCount(0);
  await old.getByTestId('diff-current').click();
  const diff = old.getByTestId('diff');
  await expect(diff).toHaveAttribute('data-to', '2');
  await expect(diff.locator('tr[data-change="added"]').first()).toContainText('hello');
  await expect(diff.locator('tr[data-change="added"]').filter({ hasText: 'text' }).getByTestId('diff-after')).toHaveText('Добро пожаловать, {{ params.name }}!');
  await expect(diff.locator('tr[data-change="changed"]').filter({ hasText: 'start' }).getByTestId('diff-after')).toHaveText('hello');
  await page.screenshot({ path: 'end2end/screenshots/scenario-diff.png', fullPage: true });
  // Any two, picked: the same two the other way round.
  const picker = old.getByTestId('compare-form');
  await picker.locator('select[name=from]').selectOption('2');
  await picker.locator('select[name=to]').selectOption('1');
  await picker.getByTestId('compare').click();
  await expect(old.getByTestId('diff')).toHaveAttribute('data-from', '2');
  await expect(old.getByTestId('diff').locator('tr[data-change="removed"]').first()).toContainText('hello');
  await old.getByTestId('close-version').click();
  await expect(old).toBeHidden();
  await expect(steps.locator('[data-step=hello]')).toBeVisible();

  // A reload renders the editor on the server and hydrates it.
  await page.reload();
  await hydrated(page);
  await page.getByTestId('steps-table').locator('[data-step=hello]').click();
  await expect(page.getByTestId('step-form').locator('textarea[name=text]')).toHaveValue('Добро пожаловать, {{ params.name }}!');
  await page.getByTestId('step-form').locator('input[name=id]').press('Escape');
  await expect(page.getByTestId('step-form')).toBeHidden();
});

test('two editors save the same scenario: the second puts their edits on top of the first\'s, and both stay', async ({ page, browser }) => {
  const open = async (p: Page) => {
    await p.goto('/scenarios?bot=bot_shop&name=welcome_e2e');
    await hydrated(p);
    return p.getByTestId('scenario-editor');
  };
  await logIn(page, ADMIN);
  await inEnglish(page);
  const mine = await open(page);
  const version = Number((await mine.getByTestId('base-version').innerText()).slice(1));
  const other = await (await browser.newContext()).newPage();
  await logIn(other, ADMIN);
  const theirs = await open(other);

  // They reword the greeting and save first.
  await theirs.getByTestId('steps-table').locator('[data-step=hello]').click();
  await theirs.getByTestId('step-form').locator('textarea[name=text]').fill('Здравствуйте, {{ params.name }}!');
  await theirs.getByTestId('step-form').locator('input[name=next]').press('Enter');
  await theirs.getByTestId('save-scenario').click();
  await theirs.getByTestId('note-form').locator('input[name=note]').press('Enter');
  await expect(theirs.getByTestId('save-message')).toHaveText(`Saved as version ${version + 1}.`);
  await other.context().close();

  // I change the description, on the old base: refused, my edit kept.
  await mine.locator('input[name=scenario-description]').fill('Greets a new buyer by name');
  await mine.locator('input[name=scenario-description]').press('Tab');
  await mine.getByTestId('save-scenario').click();
  await mine.getByTestId('note-form').locator('input[name=note]').press('Enter');
  const refused = mine.getByTestId('save-message');
  await expect(refused).toContainText(`saved version ${version + 1} while you were editing; nothing was saved. Your edits are still here.`);
  await expect(refused.getByTestId('conflict-reload')).toBeVisible();
  await refused.getByTestId('conflict-keep').click();
  await expect(mine.getByTestId('rebased')).toHaveText(`Your edits are now on top of v${version + 1}: check them and save.`);
  await expect(mine.getByTestId('base-version')).toHaveText(`v${version + 1}`);
  await expect(mine.getByTestId('steps-table').locator('[data-step=hello]')).toContainText('Здравствуйте');
  await expect(mine.locator('input[name=scenario-description]')).toHaveValue('Greets a new buyer by name');
  await expect(mine.getByTestId('unsaved')).toBeVisible();
  await mine.getByTestId('save-scenario').click();
  await mine.getByTestId('note-form').locator('input[name=note]').press('Enter');
  await expect(mine.getByTestId('save-message')).toHaveText(`Saved as version ${version + 2}.`);
  await expect(mine.getByTestId('rebased')).toHaveCount(0);

  // Both edits are in the saved version.
  await page.reload();
  const saved = await open(page);
  await expect(saved.locator('input[name=scenario-description]')).toHaveValue('Greets a new buyer by name');
  await expect(saved.getByTestId('steps-table').locator('[data-step=hello]')).toContainText('Здравствуйте');
});

test('an architect dry-runs the scenario as edited: the steps, the messages, where it stops; bad params are named', async ({ page }) => {
  await logIn(page, ADMIN);
  await inEnglish(page);
  await page.goto('/scenarios?bot=bot_shop&name=welcome_e2e');
  await hydrated(page);
  // The draft is what runs, saved or not: the demo's order_delivered, typed in.
  await page.getByTestId('view-json').click();
  const json = page.locator('textarea[name=scenario-json]');
  const draft = {
    name: 'welcome_e2e',
    start: 'rate',
    steps: [
      { id: 'rate', type: 'ask', prompt: 'Заказ №{{ params.orderId }} доставлен. Оцените доставку от 1 до 5', expect: 'rating', var: 'rating', next: 'thanks', on_no_reply: 'done' },
      { id: 'thanks', type: 'message', text: 'Спасибо за оценку!', next: 'done' },
      { id: 'done', type: 'end' },
    ] as Record<string, unknown>[],
  };
  await json.fill(JSON.stringify(draft, null, 2));
  await expect(page.getByTestId('unsaved')).toBeVisible();

  await page.getByTestId('dry-run-toggle').click();
  const dry = page.getByTestId('dry-run');
  const params = dry.locator('textarea[name=dry-params]');
  const paramsError = dry.locator('[data-error-for=dry-params]');
  const go = dry.getByTestId('dry-run-go');

  // Params that are no call body are named before anything is sent.
  await params.fill('{"orderId": 98');
  await expect(paramsError).toContainText('Not valid JSON (line 1');
  await expect(go).toBeDisabled();
  await params.fill('[9821]');
  await expect(paramsError).toContainText('must be a JSON object');
  await expect(go).toBeDisabled();

  // The API's wrapped body shape works too.
  await params.fill('{"script_request_params": {"orderId": 9821, "userId": "54321"}}');
  await expect(paramsError).toHaveCount(0);
  await go.click();
  const result = dry.getByTestId('dry-result');
  await expect(result.getByTestId('dry-message')).toHaveCount(1);
  await expect(result.getByTestId('dry-message')).toContainText('Заказ №9821 доставлен. Оцените доставку от 1 до 5');
  await expect(result.getByTestId('dry-steps')).toContainText('rate');
  await expect(result.getByTestId('dry-stop')).toHaveAttribute('data-stop', 'ask');
  await expect(result.getByTestId('dry-stop')).toContainText("Stops at rate: waits for the lead's reply");

  // An edit runs at once: a greeting before the question.
  draft.start = 'hello';
  draft.steps.unshift({ id: 'hello', type: 'message', text: 'Здравствуйте, {{ params.name }}!', next: 'rate' });
  await json.fill(JSON.stringify(draft, null, 2));
  await params.fill('{"orderId": 9821, "name": "Анна"}');
  await go.click();
  await expect(result.getByTestId('dry-steps')).toContainText('hello → rate');
  await expect(result.getByTestId('dry-message')).toHaveCount(2);
  await expect(result.getByTestId('dry-message').first()).toContainText('Здравствуйте, Анна!');
  await expect(result.getByTestId('dry-message').first()).toHaveAttribute('data-step', 'hello');
  await expect(result.getByTestId('dry-missing')).toHaveCount(0);
  await page.screenshot({ path: 'end2end/screenshots/scenario-dry-run.png', fullPage: true });
  // Params broken again: the last result (for other params) is hidden, and back once they mend.
  await params.fill('{"orderId": 9821, "name": "Анна"');
  await expect(paramsError).toBeVisible();
  await expect(result).toHaveCount(0);
  await params.fill('{"orderId": 9821, "name": "Анна"}');
  await expect(result.getByTestId('dry-message')).toHaveCount(2);

  // A value the sample does not carry is drawn empty, and named.
  await params.fill('{"orderId": 9821}');
  await go.click();
  await expect(result.getByTestId('dry-message').first()).toContainText('Здравствуйте, !');
  await expect(result.getByTestId('dry-message').first().getByTestId('dry-missing')).toHaveText('Not in the sample request, shown empty: params.name');

  // A scenario that does not pass the checks does not run; the problem is listed.
  draft.steps[0].next = 'nowhere';
  await json.fill(JSON.stringify(draft, null, 2));
  await go.click();
  await expect(dry.getByTestId('dry-error')).toContainText('Not run: the scenario has');
  await expect(page.getByTestId('problems')).toContainText('hello');
});

test('settings show one card per channel; credentials come back only as "set"', async ({ page }) => {
  await logIn(page, ADMIN);
  await inEnglish(page);
  await page.goto('/settings?bot=bot_fmlst');
  await hydrated(page);
  const cards = page.getByTestId('channel-cards');
  await expect(cards).toHaveAttribute('data-bot', 'bot_fmlst');
  for (const kind of ['telegram', 'webchat', 'whatsapp', 'vk', 'email', 'webhook', 'entry', 'secrets']) {
    await expect(cards.locator(`[data-channel=${kind}]`)).toBeVisible();
  }
  const telegram = cards.locator('[data-channel=telegram]');
  await expect(telegram.locator('[data-url]')).toHaveText(/\/telegram\/bot_fmlst\/webhook$/);
  await expect(cards.locator('[data-channel=webchat] [data-url]').last()).toContainText('/webchat/bot_fmlst/widget.js');
  await expect(telegram.locator('[data-secret-state=token]')).toHaveText('not set');

  await telegram.locator('input[name=token]').fill('123456:FMLST-e2e-token');
  await telegram.locator('input[name=webhook_secret]').fill('has spaces');
  await telegram.locator('input[name=webhook_secret]').press('Enter');
  await expect(telegram.locator('[data-error-for=webhook_secret]')).toBeVisible();
  await telegram.locator('input[name=webhook_secret]').fill('fmlst_hook_secret');
  await telegram.locator('input[name=webhook_secret]').press('Enter');
  await expect(telegram.getByTestId('channel-saved')).toBeVisible();
  await expect(telegram.locator('[data-secret-state=token]')).toHaveText('set');
  await expect(telegram.getByTestId('channel-status')).toHaveText('configured');
  await expect(telegram.locator('input[name=token]')).toHaveValue('');
  await page.screenshot({ path: 'end2end/screenshots/settings.png', fullPage: true });

  await page.reload();
  await hydrated(page);
  await expect(page.locator('[data-channel=telegram] [data-secret-state=webhook_secret]')).toHaveText('set');
  expect(await page.content()).not.toContain('FMLST-e2e-token');
  const webchat = page.locator('[data-channel=webchat]');
  await webchat.locator('input[name=allowed_origins]').fill('https://fmlst.example');
  await webchat.locator('input[name=allowed_origins]').press('Enter');
  await expect(webchat.getByTestId('channel-saved')).toBeVisible();
  await expect(webchat.getByTestId('channel-status')).toHaveText('configured');

  // A field's error is said in the user's language.
  const email = page.locator('[data-channel=email]');
  await email.locator('input[name=smtp_port]').fill('99999');
  await email.locator('input[name=smtp_port]').press('Enter');
  await expect(email.locator('[data-error-for=smtp_port]')).toHaveText('must be a port number, 1-65535');
  await chooseLanguage(page, 'ru');
  await page.locator('[data-channel=email] input[name=smtp_port]').fill('99999');
  await page.locator('[data-channel=email] input[name=smtp_port]').press('Enter');
  await expect(page.locator('[data-channel=email] [data-error-for=smtp_port]')).toHaveText('ожидается номер порта, 1–65535');
  await expect(page.locator('[data-channel=email] [data-error-for=from]')).toHaveText('ожидается адрес email или Имя <адрес>');
  // And a step's type, where the scenario's JSON keeps its own name.
  await page.goto('/scenarios?bot=bot_shop&name=welcome_e2e');
  await hydrated(page);
  await expect(page.locator('select[name=new-step-type] option[value=message]')).toHaveText('сообщение');
  await expect(page.locator('[data-step] span[title=message]').first()).toHaveText('сообщение');
  await chooseLanguage(page, 'en');
});

test('a viewer gets no dry run, not even by calling the server', async ({ page }) => {
  await logIn(page, VIEWER);
  await page.goto('/scenarios?bot=bot_shop&name=welcome_e2e');
  await hydrated(page);
  await expect(page.getByTestId('scenario-editor')).toBeVisible();
  await expect(page.getByTestId('dry-run-toggle')).toHaveCount(0);
  const origin = new URL(page.url()).origin;
  const scenario = { name: 'x', start: 'end', steps: [{ id: 'end', type: 'end' }] };
  const refused = await page.request.post(`${origin}/api/scenarios/dry-run`, {
    headers: { Origin: origin },
    data: { bot_id: 'bot_shop', json: JSON.stringify(scenario), params: '{}' },
  });
  expect(refused.status()).toBe(403);
});

test('a viewer gets no credentials page', async ({ page }) => {
  await logIn(page, VIEWER);
  await page.goto('/settings');
  await hydrated(page);
  await expect(page.getByTestId('settings-forbidden')).toBeVisible();
});

test('a scenario that only its scheduled jobs keep is deleted after cancelling them, in one more click', async ({ page }) => {
  await logIn(page, ADMIN);
  await inEnglish(page);
  expect((await callServer(page, '/api/scenarios/create', { bot_id: 'bot_shop', name: 'e2e_daily_tip', description: '', template: 'message' })).status).toBe(200);
  const issued = await callServer(page, '/api/tokens/issue', {
    draft: { name: 'e2e scheduler', bots: 'bot_shop', aliases: '', actions: ['call'], expires_in_days: 1, rate_per_minute: 0 },
  }, true);
  expect(issued.status).toBe(200);
  // A business system schedules a daily tip, starting tomorrow.
  const scheduled = await page.request.post('/bots/bot_shop/jobs/schedule', {
    headers: { Authorization: `Bearer ${issued.body.secret}` },
    data: { scenario: 'e2e_daily_tip', userId: 'e2e-buyer', run_after_sec: 86400, every_sec: 86400 },
  });
  expect(scheduled.status()).toBe(200);
  const job = (await scheduled.json()).job.id;

  await page.goto('/scenarios?bot=bot_shop');
  await hydrated(page);
  const row = page.locator('[data-scenario=e2e_daily_tip]');
  await row.getByTestId('delete').click();
  await row.getByTestId('confirm-delete').click();
  const refused = page.getByTestId('delete-refused');
  await expect(refused).toContainText('scheduled jobs naming it: 1');
  await refused.getByTestId('cancel-jobs-and-delete').click();
  await expect(row).toHaveCount(0);
  await expect(refused).toBeHidden();
  // The job is cancelled, as the API reads it.
  const read = await page.request.get(`/bots/bot_shop/jobs/${job}`, { headers: { Authorization: `Bearer ${issued.body.secret}` } });
  expect((await read.json()).job.status).toBe('cancelled');
});

test('a long history shows its newest 50 versions, then the older ones on asking', async ({ page }) => {
  await logIn(page, ADMIN);
  await inEnglish(page);
  expect((await callServer(page, '/api/scenarios/create', { bot_id: 'bot_shop', name: 'e2e_long_history', description: '', template: 'message' })).status).toBe(200);
  const loaded = await callServer(page, '/api/scenarios/get', { bot_id: 'bot_shop', name: 'e2e_long_history', version: '0' });
  const json = JSON.stringify(loaded.body.definition);
  // 54 saves after the first: versions 1 … 55.
  for (let base = 1; base < 55; base++) {
    const saved = await callServer(page, '/api/scenarios/save', { bot_id: 'bot_shop', name: 'e2e_long_history', json, note: `save ${base + 1}`, base_version: String(base) });
    expect(saved.body.Saved?.version, JSON.stringify(saved.body)).toBe(base + 1);
  }
  await page.goto('/scenarios?bot=bot_shop&name=e2e_long_history');
  await hydrated(page);
  const history = page.getByTestId('versions');
  await expect(history.locator('[data-version="55"]')).toContainText('save 55');
  await expect(history.locator('[data-version]')).toHaveCount(50);
  await expect(history.locator('[data-version="5"]')).toHaveCount(0);
  await history.getByTestId('older-versions').click();
  await expect(history.locator('[data-version]')).toHaveCount(55);
  await expect(history.locator('[data-version="1"]')).toContainText('created');
  await expect(history.getByTestId('older-versions')).toHaveCount(0);
  // An old one from the second page opens read-only against the current one.
  await history.locator('[data-version="3"]').click();
  const old = page.getByTestId('old-version');
  await expect(old).toHaveAttribute('data-version', '3');
  await old.getByTestId('diff-current').click();
  await expect(old.getByTestId('diff')).toHaveAttribute('data-to', '55');

  // A restore reads the history again. While its new first page is on the
  // way, the old list's "Older versions" waits: a page read below the old
  // list's oldest (v6) would skip v7, which the new first page shifts down.
  let release = () => {};
  const held = new Promise<void>((resolve) => { release = resolve; });
  await page.route('**/api/scenarios/versions', async (route) => { await held; await route.continue(); });
  await old.getByTestId('restore').click();
  await expect(old).toBeHidden();
  await expect(history.locator('[data-version]')).toHaveCount(50);
  await expect(history.getByTestId('older-versions')).toBeDisabled();
  // Released, the route lets every later read through at once.
  release();
  await expect(history.locator('[data-version="56"]')).toContainText('restored from v3');
  await expect(history.getByTestId('older-versions')).toBeEnabled();
  await history.getByTestId('older-versions').click();
  await expect(history.locator('[data-version]')).toHaveCount(56);
  for (const v of [1, 6, 7, 55, 56]) await expect(history.locator(`[data-version="${v}"]`)).toHaveCount(1);
});
