// `npm run screenshot`: boots the built-in guest in headless Chromium and saves pictures of the UI
// for the README: docs/screenshot.png (1366×768), docs/screenshot-wide.png (1920×1080) and
// docs/screenshot-phone.png (390×844, a touch phone). The layout tests take the same pictures.
import { chromium } from "playwright-core";
import { launchOptions } from "./lib/chromium.mjs";
import { startApp } from "../bench/lib/app-server.mjs";
import { prepareScene, shoot, viewport } from "./lib/screenshots.mjs";

async function bootedPage(browser, url, contextOptions) {
  const context = await browser.newContext(contextOptions);
  const page = await context.newPage();
  await page.goto(`${url}/?autoboot=0`);
  await page.waitForFunction(() => typeof window.snap86 === "object");
  await page.evaluate(() => window.snap86.boot().then(() => window.snap86.waitForShell({ timeoutMs: 150_000 })));
  await prepareScene(page);
  return page;
}

const app = await startApp();
const browser = await chromium.launch(launchOptions());
try {
  const desktop = await bootedPage(browser, app.url, { viewport: { width: 1366, height: 768 } });
  console.log(`wrote ${await shoot(desktop, viewport("laptop"), "docs/screenshot.png")}`);
  console.log(`wrote ${await shoot(desktop, viewport("desktop"), "docs/screenshot-wide.png")}`);
  await desktop.context().close();
  const phone = viewport("phone");
  const mobile = await bootedPage(browser, app.url, { viewport: { width: phone.width, height: phone.height }, hasTouch: true, isMobile: true });
  console.log(`wrote ${await shoot(mobile, phone, "docs/screenshot-phone.png")}`);
} finally {
  await browser.close();
  app.stop();
}
