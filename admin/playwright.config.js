// Playwright drives Debian's Chromium (`apt-get install chromium`; Playwright's own browser
// download is not available here) headless against a real `sf serve` that e2e/setup.js
// starts on a fresh data directory and seeds. Run: `npx playwright test` (scripts/admin-e2e.sh).
import { defineConfig } from '@playwright/test';

const port = Number(process.env.SF_ADMIN_E2E_PORT || 3917);

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results',
  globalSetup: './e2e/setup.js',
  globalTeardown: './e2e/teardown.js',
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 30_000,
  expect: { timeout: 7_000 },
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    browserName: 'chromium',
    headless: true,
    viewport: { width: 1280, height: 900 },
    launchOptions: {
      executablePath: process.env.SF_CHROMIUM || '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-dev-shm-usage'],
    },
  },
});
