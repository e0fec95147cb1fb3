// The built-in web chat in a real browser: /webchat/bot_shop is the widget
// opened full-page, and the same widget.js embedded on a shop's own site
// draws a bubble that talks to ComOps across origins. What the visitor
// writes is stored, so a reload shows the conversation again.
import { test, expect, Page } from '@playwright/test';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const QUESTION = 'Здравствуйте! Где мой заказ №9821?';

function visitorMessages(page: Page) {
  return page.locator('[data-testid=webchat-message][data-from=visitor]');
}

test('a visitor writes to bot_shop on its chat page and finds the conversation after a reload', async ({ page }) => {
  await page.goto('/webchat/bot_shop');
  const panel = page.getByTestId('webchat-panel');
  await expect(panel).toBeVisible();
  await expect(panel.locator('header')).toHaveText('Shop notifications');
  await expect(page).toHaveTitle('Shop notifications');
  await expect(page.getByTestId('webchat-send')).toHaveText('Send');

  await page.getByTestId('webchat-input').fill(QUESTION);
  await page.getByTestId('webchat-send').click();
  await expect(visitorMessages(page)).toHaveText([QUESTION]);
  await expect(page.getByTestId('webchat-input')).toHaveValue('');
  await expect(page.getByTestId('webchat-status')).toBeEmpty();
  const token = await page.evaluate(() =>
    Object.keys(localStorage).filter((key) => key.startsWith('comops-webchat:')).map((key) => localStorage.getItem(key))[0]);
  expect(token).toMatch(/^[0-9a-f]{64}$/);
  await page.screenshot({ path: 'end2end/screenshots/webchat-page.png' });

  // The same visitor (token in localStorage) sees the history after a reload.
  await page.reload();
  await expect(visitorMessages(page)).toHaveText([QUESTION]);
  await page.getByTestId('webchat-input').fill('Жду ответа');
  await page.getByTestId('webchat-input').press('Enter');
  await expect(visitorMessages(page)).toHaveText([QUESTION, 'Жду ответа']);
});

test('the widget embedded on a shop site opens as a bubble and talks to ComOps across origins', async ({ page, baseURL }) => {
  // The shop's own site: another origin (another host name and port)
  // embedding the widget with one script tag. It runs on loopback like
  // ComOps here, since Chromium keeps public pages away from loopback.
  const shop = http.createServer((_, response) => {
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    response.end(`<!doctype html><html lang="ru"><head><title>Shop</title></head><body><h1>Магазин</h1>
      <script src="${baseURL}/webchat/bot_shop/widget.js" data-title="Поддержка магазина" async></script></body></html>`);
  });
  await new Promise<void>((resolve) => shop.listen(0, '127.0.0.1', resolve));
  const { port } = shop.address() as AddressInfo;
  try {
    await page.goto(`http://localhost:${port}/catalog`);
    const launcher = page.getByTestId('webchat-launcher');
    await expect(launcher).toBeVisible();
    // The shop's site is Russian (<html lang="ru">): so is the widget.
    await expect(launcher).toHaveAttribute('aria-label', 'Открыть чат');
    const panel = page.getByTestId('webchat-panel');
    await expect(panel).toBeHidden();
    await launcher.click();
    await expect(panel).toBeVisible();
    await expect(panel.locator('header .title')).toHaveText('Поддержка магазина');

    await expect(page.getByTestId('webchat-send')).toHaveText('Отправить');
    await page.getByTestId('webchat-input').fill('Можно оплатить при получении?');
    await page.getByTestId('webchat-send').click();
    await expect(visitorMessages(page)).toHaveText(['Можно оплатить при получении?']);
    await expect(page.getByTestId('webchat-status')).toBeEmpty();
    await page.screenshot({ path: 'end2end/screenshots/webchat-bubble.png' });
  } finally {
    shop.close();
  }
});

test('a bot message shows its media by kind: a picture, a video, an audio, a document as a link', async ({ page }) => {
  // The widget's own rendering: the history it reads holds four bot
  // messages with media (nothing sends media to the web chat in the demo).
  await page.route('https://cdn.example/**', (route) => route.abort());
  await page.route('**/webchat/bot_shop/history?limit=50*', (route) =>
    route.fulfill({
      contentType: 'application/json',
      body: JSON.stringify({
        more: false,
        messages: [
          { id: 1, from: 'bot', text: 'Ваш курьер', buttons: [], media_url: 'https://cdn.example/courier.jpg', at: 1 },
          { id: 2, from: 'bot', text: 'Видеодемо', buttons: [], media_url: 'https://cdn.example/demo.mp4', at: 2 },
          { id: 3, from: 'bot', text: 'Приветствие', buttons: [], media_url: 'https://cdn.example/hello.mp3', at: 3 },
          { id: 4, from: 'bot', text: 'Счёт к заказу', buttons: [], media_url: 'https://cdn.example/files/invoice%209821.pdf?sig=1', at: 4 },
        ],
      }),
    }),
  );
  await page.goto('/webchat/bot_shop');
  const bot = page.locator('[data-testid=webchat-message][data-from=bot]');
  await expect(bot).toHaveCount(4);
  await expect(bot.nth(0).locator('img')).toHaveAttribute('src', 'https://cdn.example/courier.jpg');
  await expect(bot.nth(1).locator('video')).toHaveAttribute('src', 'https://cdn.example/demo.mp4');
  await expect(bot.nth(2).locator('audio')).toHaveAttribute('src', 'https://cdn.example/hello.mp3');
  const file = bot.nth(3).locator('a.file');
  await expect(file).toHaveText('invoice 9821.pdf');
  await expect(file).toHaveAttribute('href', 'https://cdn.example/files/invoice%209821.pdf?sig=1');
  await expect(file).toHaveAttribute('rel', 'noopener noreferrer');
  await expect(bot.nth(3).locator('img')).toHaveCount(0);
});

test('the chat page speaks the language asked for, and says a refusal and a lost connection in it', async ({ page }) => {
  await page.goto('/webchat/bot_shop?lang=ru');
  await expect(page.locator('html')).toHaveAttribute('lang', 'ru');
  const input = page.getByTestId('webchat-input');
  await expect(input).toHaveAttribute('placeholder', 'Напишите сообщение…');
  await expect(page.getByTestId('webchat-send')).toHaveText('Отправить');

  // Too many messages: the server's 429 and its Retry-After, in Russian.
  await page.route('**/webchat/bot_shop/messages', (route) => route.request().method() === 'POST'
    ? route.fulfill({ status: 429, headers: { 'Retry-After': '7', 'Content-Type': 'application/json' }, body: '{"success":false,"message":"Too many requests"}' })
    : route.continue());
  await input.fill('Ещё вопрос');
  await page.getByTestId('webchat-send').click();
  await expect(page.getByTestId('webchat-status')).toHaveText('Слишком много сообщений: попробуйте через 7 с.');
  await expect(input).toHaveValue('Ещё вопрос');

  // The network gone: said as such, the text kept to send again.
  await page.unroute('**/webchat/bot_shop/messages');
  await page.route('**/webchat/bot_shop/messages', (route) => route.request().method() === 'POST' ? route.abort('internetdisconnected') : route.continue());
  await page.getByTestId('webchat-send').click();
  await expect(page.getByTestId('webchat-status')).toHaveText('Нет связи с чатом: проверьте сеть и попробуйте ещё раз.');
  await expect(input).toHaveValue('Ещё вопрос');
});
