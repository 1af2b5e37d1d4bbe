import { defineConfig } from "@playwright/test";
import { launchOptions } from "./scripts/lib/chromium.mjs";

const port = Number(process.env.SNAP86_TEST_PORT ?? 4317);

export default defineConfig({
  testDir: "tests/e2e",
  // Two cores: one emulator at a time keeps timings honest and the suite predictable.
  workers: 1,
  fullyParallel: false,
  timeout: 180_000,
  expect: { timeout: 30_000 },
  reporter: [["list"], ["json", { outputFile: "test-results/e2e.json" }]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    viewport: { width: 1440, height: 900 },
    launchOptions: launchOptions(),
    trace: "retain-on-failure",
  },
  webServer: {
    command: `npx vite preview --port ${port} --strictPort --host 127.0.0.1`,
    url: `http://127.0.0.1:${port}/guest/guest.json`,
    reuseExistingServer: !process.env.CI,
    timeout: 60_000,
  },
});
