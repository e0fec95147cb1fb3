// The Leads section: an admin finds a lead by (part of) its CRM id, opens its file,
// takes the conversation over and answers by hand (Enter sends, Shift+Enter
// is a new line), hands it back, finds the answer among the dead letters
// (bot_shop has no Telegram credentials on this server, so nothing can be
// delivered) and re-drives it, then deactivates the lead's link. A viewer
// reads the same pages without any of the actions.
import { test, expect, Page } from '@playwright/test';
import { ADMIN, VIEWER, chooseLanguage, hydrated, logIn } from './helpers';

test.describe.configure({ mode: 'serial' });

const LEAD = 'TG-9072612';
const OTHER = 'TG-5550001';
const REPLY = 'Здравствуйте! Это оператор, ваш заказ уже в пути.';

/** Links a CRM user to a Telegram chat through the identities API, with a
 * token the admin issues for it; returns the lead id. */
async function linkLead(page: Page, userId: string, chatId: string): Promise<string> {
  const issued = await page.evaluate(async (name) => {
    const response = await fetch('/api/tokens/issue', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ draft: { name, bots: 'bot_shop', aliases: '', actions: ['admin_write'], expires_in_days: 1, rate_per_minute: 0 } }),
    });
    return { status: response.status, body: await response.json() };
  }, `e2e identities ${userId}`);
  expect(issued.status).toBe(200);
  const linked = await page.request.post('/bots/bot_shop/identities', {
    headers: { Authorization: `Bearer ${issued.body.secret}` },
    data: { userId, channel: 'telegram', chatId },
  });
  expect(linked.status()).toBe(200);
  return (await linked.json()).leadId;
}

async function openLeads(page: Page, query = '') {
  await page.goto(`/leads?bot=bot_shop${query}`);
  await hydrated(page);
  await expect(page.getByTestId('lead-tabs')).toHaveAttribute('data-bot', 'bot_shop');
}

test('an admin searches leads, answers one by hand, re-drives the dead letter and deactivates the link', async ({ page }) => {
  await logIn(page, ADMIN);
  expect(await linkLead(page, 'crm-e2e-1', '9072612')).toBe(LEAD);
  expect(await linkLead(page, 'crm-e2e-2', '5550001')).toBe(OTHER);

  await openLeads(page);
  await expect(page.getByTestId('tab-leads')).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('tab-operator')).toBeVisible();
  await expect(page.getByTestId('tab-dead')).toBeVisible();
  await expect(page.locator(`[data-lead="${LEAD}"]`)).toBeVisible();
  await expect(page.locator(`[data-lead="${OTHER}"]`)).toBeVisible();

  // Search by the CRM's user id; Enter searches, Escape clears.
  const search = page.getByTestId('lead-search').locator('input[name=q]');
  await search.fill('crm-e2e-1');
  await search.press('Enter');
  await expect(page.locator(`tr[data-lead="${OTHER}"]`)).toHaveCount(0);
  await expect(page.getByTestId('page-range')).toHaveText('1–1 of 1');
  // Part of a user id, in another case, finds both.
  await search.fill('CRM-E2E-');
  await search.press('Enter');
  await expect(page.locator(`tr[data-lead="${OTHER}"]`)).toBeVisible();
  await expect(page.locator(`tr[data-lead="${LEAD}"]`)).toBeVisible();
  await expect(page.getByTestId('page-range')).toHaveText('1–2 of 2');
  await search.press('Escape');
  await expect(page.locator(`tr[data-lead="${OTHER}"]`)).toBeVisible();
  await search.fill('9072612');
  await search.press('Enter');
  await expect(page.locator(`tr[data-lead="${OTHER}"]`)).toHaveCount(0);
  const row = page.locator(`tr[data-lead="${LEAD}"]`);
  await expect(row).toContainText('telegram');
  await row.click();
  await expect(page).toHaveURL(new RegExp(`lead=${LEAD}`));
  const detail = page.getByTestId('lead-detail');
  const link = detail.locator('[data-link="telegram:9072612"]');
  await expect(link).toContainText('crm-e2e-1');
  await expect(link).toHaveAttribute('data-active', 'true');
  await expect(detail.getByTestId('detail-holder')).toHaveText('The bot talks');
  await expect(detail.getByTestId('transcript-empty')).toBeVisible();
  await page.screenshot({ path: 'end2end/screenshots/leads.png', fullPage: true });

  // Take over and answer: Shift+Enter is a new line, Enter sends.
  await detail.getByTestId('open-operator').click();
  await expect(page).toHaveURL(/tab=operator/);
  const desk = page.getByTestId('operator-conversation');
  await expect(desk).toHaveAttribute('data-lead', LEAD);
  await desk.getByTestId('take-over').click();
  await expect(desk.getByTestId('conversation-holder')).toHaveText(`Taken by ${ADMIN.email}`);
  await expect(page.locator(`[data-queue="${LEAD}"]`)).toContainText(ADMIN.email);
  const reply = desk.locator('textarea[name=reply]');
  await reply.fill('first line');
  await reply.press('Shift+Enter');
  await reply.pressSequentially('second line');
  await expect(reply).toHaveValue('first line\nsecond line');
  await reply.press('Escape');
  await expect(reply).toHaveValue('');
  await reply.press('Enter');
  await expect(desk.locator('[data-error-for=text]')).toHaveCount(0);
  await reply.fill(REPLY);
  await reply.press('Enter');
  await expect(desk.getByTestId('reply-result')).toHaveText('Queued to 1 address(es).');
  await expect(reply).toHaveValue('');
  const sent = desk.getByTestId('message').filter({ hasText: REPLY });
  await expect(sent).toHaveAttribute('data-direction', 'out');
  await expect(sent).toContainText(`operator ${ADMIN.email}`);
  // The desk refreshes by itself: the failed delivery shows without a click.
  await expect(sent.getByTestId('delivery')).toHaveText('not delivered', { timeout: 15_000 });
  await page.screenshot({ path: 'end2end/screenshots/leads-operator.png', fullPage: true });
  await desk.getByTestId('hand-back').click();
  await expect(desk.getByTestId('conversation-holder')).toHaveText('The bot talks');
  await expect(page.getByTestId('queue-empty')).toBeVisible();

  // The answer is a dead letter; a re-drive asks first, then queues it again.
  await page.getByTestId('tab-dead').click();
  await expect(page).toHaveURL(/tab=dead/);
  await expect(page.getByTestId('dead-hint')).toContainText('sends the message again');
  const letter = page.getByTestId('dead-letters').locator(`tr[data-lead="${LEAD}"]`).filter({ hasText: REPLY });
  await expect(letter).toContainText('telegram');
  await letter.getByTestId('redrive').click();
  await expect(letter).toContainText('Send this message again?');
  await page.screenshot({ path: 'end2end/screenshots/dead-letters.png', fullPage: true });
  // The question holds the focus: Escape takes it back; the second time it is confirmed.
  await expect(letter.getByTestId('confirm-redrive')).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(letter.getByTestId('confirm-redrive')).toHaveCount(0);
  await letter.getByTestId('redrive').click();
  await letter.getByTestId('confirm-redrive').click();
  await expect(page.getByTestId('redriven')).toHaveText('Queued again.');

  // The tabs keep the open lead.
  await page.getByTestId('tab-leads').click();
  // Back on the lead: deactivate its link, confirmed in place.
  await expect(page).toHaveURL(new RegExp(`lead=${LEAD}`));
  const again = page.getByTestId('lead-detail').locator('[data-link="telegram:9072612"]');
  await again.getByTestId('deactivate').click();
  // The confirmation takes the focus: Escape cancels, Enter confirms.
  await expect(again.getByTestId('confirm-deactivate')).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(again.getByTestId('confirm-deactivate')).toHaveCount(0);
  await again.getByTestId('deactivate').click();
  await expect(again.getByTestId('confirm-deactivate')).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('lead-detail').locator('[data-link="telegram:9072612"]')).toHaveAttribute('data-active', 'false');
});

test('a viewer reads leads, the desk and dead letters but may act on none', async ({ page }) => {
  await logIn(page, VIEWER);
  await openLeads(page, `&lead=${LEAD}`);
  const detail = page.getByTestId('lead-detail');
  await expect(detail.locator('[data-link="telegram:9072612"]')).toBeVisible();
  await expect(detail.getByTestId('deactivate')).toHaveCount(0);
  await expect(detail.getByTestId('open-operator')).toHaveCount(0);
  await expect(detail.getByTestId('transcript')).toContainText(REPLY);

  await page.getByTestId('tab-operator').click();
  await expect(page.getByTestId('operator-conversation')).toHaveAttribute('data-lead', LEAD);
  await expect(page.getByTestId('take-over')).toHaveCount(0);
  await expect(page.getByTestId('reply-form')).toHaveCount(0);

  await page.getByTestId('tab-dead').click();
  await expect(page.getByTestId('dead-letters')).toBeVisible();
  await expect(page.getByTestId('redrive')).toHaveCount(0);

  // Every text of the section speaks Russian too (and back, for the other specs).
  await chooseLanguage(page, 'ru');
  await expect(page.getByTestId('tab-dead')).toHaveText('Недоставленные');
  await expect(page.getByTestId('dead-hint')).toContainText('Повторная отправка');
  await chooseLanguage(page, 'en');
  await expect(page.getByTestId('tab-dead')).toHaveText('Dead letters');

  // The server refuses as well.
  const refused = await page.evaluate(async (lead) => {
    const response = await fetch('/api/leads/take-over', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `bot_id=bot_shop&lead_id=${lead}`,
    });
    return response.status;
  }, LEAD);
  expect(refused).toBe(403);
});
