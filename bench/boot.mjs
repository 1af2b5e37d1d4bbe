// `npm run bench:boot`: cold boot of the built-in guest in headless Chromium, from navigation of
// a fresh page (fresh browser context) to the first `run('true')` that answers. Median of 3.
import { chromium } from "playwright-core";
import { launchOptions } from "../scripts/lib/chromium.mjs";
import { median, startApp } from "./lib/app-server.mjs";

const RUNS = Number(process.env.SNAP86_BENCH_RUNS ?? 3);
const MEMORY_MIB = 128;

const app = await startApp();
const browser = await chromium.launch(launchOptions());
const times = [];
try {
  for (let i = 0; i < RUNS; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    const t0 = performance.now();
    await page.goto(`${app.url}/?memory=${MEMORY_MIB}`);
    await page.waitForFunction(() => typeof window.snap86 === "object");
    await page.evaluate(() => window.snap86.waitForShell({ timeoutMs: 120_000 }));
    const ms = Math.round(performance.now() - t0);
    times.push(ms);
    console.error(`boot ${i + 1}/${RUNS}: ${ms} ms`);
    await context.close();
  }
} finally {
  await browser.close();
  app.stop();
}
console.log(JSON.stringify({ bench: "boot", boot_to_shell_ms: median(times), memory_mib: MEMORY_MIB }));
