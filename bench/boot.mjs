// `npm run bench:boot`: cold boot of the built-in guest in headless Chromium, from navigation of
// a fresh page (fresh browser context) to the first `run('true')` that answers. Median of 3.
import { chromium } from "playwright-core";
import { launchOptions } from "../scripts/lib/chromium.mjs";
import { median, startApp } from "./lib/app-server.mjs";
import { bootFreshPage } from "./lib/vm.mjs";

const RUNS = Number(process.env.SNAP86_BENCH_RUNS ?? 3);
const MEMORY_MIB = 128;

const app = await startApp();
const browser = await chromium.launch(launchOptions());
const times = [];
try {
  for (let i = 0; i < RUNS; i++) {
    const { context, bootMs } = await bootFreshPage(browser, app.url, { memoryMiB: MEMORY_MIB });
    const ms = Math.round(bootMs);
    times.push(ms);
    console.error(`boot ${i + 1}/${RUNS}: ${ms} ms`);
    await context.close();
  }
} finally {
  await browser.close();
  app.stop();
}
console.log(JSON.stringify({ bench: "boot", boot_to_shell_ms: median(times), memory_mib: MEMORY_MIB }));
