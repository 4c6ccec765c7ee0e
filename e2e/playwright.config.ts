import { defineConfig } from '@playwright/test';

const port = Number(process.env.E2E_PORT ?? 4179);

export default defineConfig({
  testDir: './specs',
  outputDir: '../test-results/e2e',
  timeout: 30_000,
  retries: 0,
  workers: 1,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    launchOptions: { executablePath: process.env.CHROMIUM_PATH },
  },
  webServer: {
    command: `node ${new URL('./serve.mjs', import.meta.url).pathname}`,
    url: `http://127.0.0.1:${port}/replica.html`,
    reuseExistingServer: false,
    timeout: 20_000,
  },
});
