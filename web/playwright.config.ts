import { defineConfig } from '@playwright/test';

// Runs against an esign-local serving web/dist (scripts/web-test.sh starts one and sets
// ESIGN_WEB_BASE). The browser is Debian's chromium: Playwright's own download is not used.
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';

export default defineConfig({
  testDir: './tests',
  timeout: 240_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    baseURL: process.env.ESIGN_WEB_BASE ?? 'http://127.0.0.1:3000',
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    actionTimeout: 15_000,
    navigationTimeout: 30_000,
    trace: 'off',
    launchOptions: {
      executablePath,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  projects: [
    { name: 'i18n', testMatch: /i18n\.spec\.ts/ },
    { name: 'desktop', testMatch: /(flow|contracts|embed)\.spec\.ts/, use: { viewport: { width: 1366, height: 900 } } },
    { name: 'phone', testMatch: /(flow|contracts|embed)\.spec\.ts/, use: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 } },
  ],
});
