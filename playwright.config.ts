import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineConfig } from "@playwright/test";
import { testLaunchOptions } from "./scripts/lib/chromium.mjs";

const port = Number(process.env.SNAP86_TEST_PORT ?? 4317);
// The checkpoint store for share tests: its own port and a throwaway data dir (tests tamper with
// it), and the preview's /store proxy pointed at it. Workers re-read this file: same values.
const storePort = Number(process.env.SNAP86_TEST_STORE_PORT ?? 4318);
process.env.SNAP86_TEST_STORE_DIR ??= join(tmpdir(), `snap86-e2e-store-${storePort}`);
// The test images' own server (scripts/lib/image-server.mjs): another origin, with CORS and Range.
const imagesPort = Number(process.env.SNAP86_TEST_IMAGES_PORT ?? 4319);
process.env.SNAP86_TEST_IMAGES_ORIGIN = `http://127.0.0.1:${imagesPort}`;
const storeEnv = { SNAP86_STORE_PORT: String(storePort), SNAP86_STORE_DIR: process.env.SNAP86_TEST_STORE_DIR };

// npm test (scripts/test.mjs) runs the Debian guest's tests apart, once that guest is built.
const DEBIAN_SPECS = /debian\.spec\.ts$/;
const part = process.env.SNAP86_E2E_PART;
// Specs that share checkpoints to the one test store: two of them find their own uploads by what
// appeared in its directory, so none of these may upload while another runs. They run one at a
// time in their own project, beside the other specs.
const STORE_SPECS = /\/(share|image-share|cancel|clones|image-checkpoints|boot|ui-keyboard|upgrade)\.spec\.ts$/;

export default defineConfig({
  testDir: "tests/e2e",
  projects: [
    ...(part === "debian" ? [] : [{ name: "store", testMatch: STORE_SPECS, workers: 1 }]),
    {
      name: "machines",
      ...(part === "debian" ? { testMatch: DEBIAN_SPECS } : {}),
      testIgnore: part === "without-debian" ? [STORE_SPECS, DEBIAN_SPECS] : [STORE_SPECS],
    },
  ],
  // Two at a time on two cores: ~25 % less wall time than one (measured: 19 min instead of 25).
  // Each test then runs about as a machine twice as slow would run it, which every test must
  // stand anyway (they wait for events, never for a guessed time). Test images are read from a
  // folder of the worker's own (tests/support/test-images.ts), so logs of requests do not mix.
  workers: 2,
  fullyParallel: false,
  timeout: 180_000,
  expect: { timeout: 30_000 },
  // Outside test-results/, which Playwright empties when it starts: scripts/test.mjs sums both.
  reporter: [["list"], ["json", { outputFile: process.env.SNAP86_E2E_REPORT ?? ".cache/test-results/e2e.json" }]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    viewport: { width: 1440, height: 900 },
    launchOptions: testLaunchOptions(),
    // Traces of the worker-scoped shared page outlive the test that started them; keep them off.
    trace: "off",
  },
  webServer: [
    {
      command: `npx vite preview --port ${port} --strictPort --host 127.0.0.1`,
      url: `http://127.0.0.1:${port}/guest/guest.json`,
      reuseExistingServer: !process.env.CI,
      timeout: 60_000,
      env: storeEnv,
    },
    {
      command: `node scripts/lib/image-server.mjs --port ${imagesPort}`,
      url: `http://127.0.0.1:${imagesPort}/_log`,
      reuseExistingServer: !process.env.CI,
      timeout: 120_000,
    },
    {
      command: "npm run --silent store",
      port: storePort,
      reuseExistingServer: !process.env.CI,
      timeout: 60_000,
      env: storeEnv,
    },
  ],
});
