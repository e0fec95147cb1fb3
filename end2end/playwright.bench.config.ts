// Studio benches (end2end/bench/*.bench.ts): the real server and Chromium,
// one at a time, results written as JSON. Not part of ./scripts/test —
// run ./scripts/bench-studio.
import { defineConfig } from '@playwright/test';
import base from './playwright.config';

export default defineConfig({
  ...base,
  testDir: './bench',
  testMatch: /.*\.bench\.ts/,
  timeout: 300_000,
  webServer: undefined,
});
