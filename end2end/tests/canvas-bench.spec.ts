// A measurement, not a test: the canvas with a generated 300-step scenario.
// It times the first drawing (auto-layout included, as an old scenario has
// no positions), the frames while a node is dragged with the real mouse,
// each pointer move to the frame that shows it, and the end of the drag
// (the edit committed: positions into the scenario, undo step, checks)
// to the next frame. Nothing is asserted about the figures; they are
// written into docs/benchmarks.md between the canvas-bench markers.
//
// Runs only with COMOPS_BENCH=1 (scripts/bench-canvas); starts its own
// server on port 3420 like canvas.spec.ts.
import { test, expect } from '@playwright/test';
import { OwnServer, startOwnServer } from './own-server';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hydrated } from './helpers';

const PORT = Number(process.env.COMOPS_E2E_BENCH_PORT ?? 3420);
const BASE = `http://127.0.0.1:${PORT}`;
const ARCHITECT = { email: 'architect@comops.local', password: 'e2e-architect-password' };
const STEPS = 300;

test.skip(!process.env.COMOPS_BENCH, 'a benchmark: run with COMOPS_BENCH=1');
test.describe.configure({ mode: 'serial' });
test.use({ baseURL: BASE, viewport: { width: 1600, height: 1000 } });
test.setTimeout(180_000);

let own: OwnServer | undefined;
let token = '';

test.beforeAll(async () => {
  own = await startOwnServer({ name: 'bench-canvas', port: PORT, flags: ['--demo-bots'], users: [{ ...ARCHITECT, role: 'architect' }], tokens: [{ name: 'bench', bots: 'bot_shop', actions: 'admin_write' }] });
  token = own.tokens[0];
});

test.afterAll(() => own?.stop());

/** 300 steps: a main line of asks and messages with an `if` every tenth
 * step that loops back or skips ahead, ending in one `end`. */
function bigScenario() {
  const steps: object[] = [];
  for (let i = 0; i < STEPS - 1; i++) {
    const id = `s${i}`;
    const next = `s${i + 1}`;
    if (i % 10 === 9) {
      steps.push({ id, type: 'if', condition: `params.n > ${i % 7}`, then: next, otherwise: `s${Math.max(0, i - 7)}` });
    } else if (i % 5 === 2) {
      steps.push({ id, type: 'ask', prompt: `Вопрос ${i}?`, expect: 'number', var: `n${i % 7}`, next, on_no_reply: `s${Math.min(STEPS - 1, i + 12)}` });
    } else {
      steps.push({ id, type: 'message', text: `Шаг ${i}: {{ params.n }}`, next });
    }
  }
  steps.push({ id: `s${STEPS - 1}`, type: 'end', goal: 'done' });
  return { name: 'bench_300', description: 'generated for the canvas bench', start: 's0', steps };
}

function stats(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { n: sorted.length, p50: at(0.5), p95: at(0.95), max: sorted[sorted.length - 1] };
}

test('300 steps on the canvas: first drawing, drag frames, commit', async ({ page }) => {
  const saved = await page.request.put(`${BASE}/bots/bot_shop/scenarios/bench_300`, {
    headers: { Authorization: `Bearer ${token}` },
    data: bigScenario(),
  });
  expect(saved.status(), await saved.text()).toBe(200);

  await page.goto('/login');
  await hydrated(page);
  await page.locator('input[name=email]').fill(ARCHITECT.email);
  await page.locator('input[name=password]').fill(ARCHITECT.password);
  await page.locator('button[type=submit]').click();
  await page.waitForURL('**/projects');
  await page.goto('/scenarios?bot=bot_shop&name=bench_300');
  await hydrated(page);
  await expect(page.getByTestId('view-canvas')).toBeVisible();

  // First drawing: click → every node in the DOM and a frame painted.
  const firstDraw = await page.evaluate(async (count) => {
    const t0 = performance.now();
    (document.querySelector('[data-testid=view-canvas]') as HTMLElement).click();
    for (;;) {
      await new Promise((r) => requestAnimationFrame(r));
      if (document.querySelectorAll('[data-node]').length >= count) break;
    }
    await new Promise((r) => requestAnimationFrame(r));
    return performance.now() - t0;
  }, STEPS);

  // Zoom in (about the middle) so a node is big enough to grab, and take
  // the one nearest the middle of the canvas.
  const canvas = page.getByTestId('canvas');
  await canvas.evaluate((el) => el.scrollIntoView({ block: 'center' }));
  await canvas.focus();
  for (let i = 0; i < 8; i++) await page.keyboard.press('+');
  const from = await page.evaluate(() => {
    const view = document.querySelector('[data-testid=canvas]')!.getBoundingClientRect();
    const mid = { x: view.left + view.width / 2, y: view.top + view.height / 2 };
    let best = { x: 0, y: 0, d: Infinity };
    for (const rect of document.querySelectorAll('[data-node] > rect:first-of-type')) {
      const b = rect.getBoundingClientRect();
      const c = { x: b.left + b.width / 2, y: b.top + b.height / 2 };
      const d = Math.hypot(c.x - mid.x, c.y - mid.y);
      if (d < best.d) best = { ...c, d };
    }
    return { x: best.x, y: best.y };
  });

  await page.evaluate(() => {
    const w = window as any;
    w.__bench = { frames: [] as number[], moves: [] as number[], commit: [] as number[], running: true };
    let last = performance.now();
    const tick = (t: number) => {
      w.__bench.frames.push(t - last);
      last = t;
      if (w.__bench.running) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    window.addEventListener('pointermove', () => {
      const t0 = performance.now();
      requestAnimationFrame(() => w.__bench.moves.push(performance.now() - t0));
    }, { capture: true });
    window.addEventListener('pointerup', () => {
      const t0 = performance.now();
      requestAnimationFrame(() => requestAnimationFrame(() => w.__bench.commit.push(performance.now() - t0)));
    }, { capture: true });
  });
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  for (let i = 1; i <= 120; i++) {
    await page.mouse.move(from.x + i * 2, from.y + Math.sin(i / 10) * 60);
  }
  await page.mouse.up();
  await page.waitForTimeout(300);
  const bench = await page.evaluate(() => {
    const w = window as any;
    w.__bench.running = false;
    return w.__bench;
  });
  await expect(page.getByTestId('unsaved')).toBeVisible();

  const frames = stats(bench.frames.slice(1));
  const moves = stats(bench.moves);
  const commit = bench.commit[0] ?? NaN;
  const f = (x: number) => x.toFixed(1);
  const when = new Date().toISOString().slice(0, 16).replace('T', ' ');
  const figures = [
    `Measured ${when} UTC, headless Chromium (software rendering) on the 2-core machine, debug server, release bundle;`,
    `scenario of ${STEPS} steps (${bigScenario().steps.length} nodes, no saved positions: auto-layout on open).`,
    '',
    '| what | figure |',
    '|---|---|',
    `| first drawing (click "Canvas" → ${STEPS} nodes painted, auto-layout included) | ${f(firstDraw)} ms |`,
    `| frame interval while dragging (${frames.n} frames) | p50 ${f(frames.p50)} ms, p95 ${f(frames.p95)} ms, max ${f(frames.max)} ms |`,
    `| pointer move → frame showing it (${moves.n} moves) | p50 ${f(moves.p50)} ms, p95 ${f(moves.p95)} ms, max ${f(moves.max)} ms |`,
    `| drag end → commit (layout, undo step, checks) painted | ${f(commit)} ms |`,
  ].join('\n');
  console.log(figures);
  const path = 'docs/benchmarks.md';
  const doc = readFileSync(path, 'utf8');
  const start = '<!-- canvas-bench:start -->';
  const end = '<!-- canvas-bench:end -->';
  if (doc.includes(start) && doc.includes(end)) {
    writeFileSync(path, doc.slice(0, doc.indexOf(start) + start.length) + '\n' + figures + '\n' + doc.slice(doc.indexOf(end)));
  }
  await page.screenshot({ path: 'end2end/screenshots/canvas-300.png' });
});
