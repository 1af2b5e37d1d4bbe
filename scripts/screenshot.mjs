// `npm run screenshot`: boots the built-in guest in headless Chromium and saves a picture of the
// UI to docs/screenshot.png for the README.
import { chromium } from "playwright-core";
import { launchOptions } from "./lib/chromium.mjs";
import { startApp } from "../bench/lib/app-server.mjs";

const app = await startApp();
const browser = await chromium.launch(launchOptions());
try {
  const page = await browser.newPage({ viewport: { width: 1480, height: 960 } });
  await page.goto(`${app.url}/`);
  await page.waitForFunction(() => typeof window.snap86 === "object");
  await page.evaluate(() => window.snap86.waitForShell({ timeoutMs: 120_000 }));
  await page.evaluate(() => window.snap86.run("clear; uname -a; free -m; df -h /"));
  await page.locator("#screen").click();
  await page.keyboard.type("ls /\n");
  await page.evaluate(() => window.snap86.ensureGolden());
  await page.evaluate(() => window.snap86.checkpoint({ label: "after ls" }));
  await page.waitForTimeout(1500);
  await page.screenshot({ path: "docs/screenshot.png" });
  console.log("wrote docs/screenshot.png");
} finally {
  await browser.close();
  app.stop();
}
