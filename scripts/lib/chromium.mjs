// Launch settings for Debian's Chromium, shared by the Playwright config, benchmarks and scripts.
// Playwright's own browser download is never used: the system package is the browser.
import { existsSync } from "node:fs";

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export function chromiumPath() {
  const candidates = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"];
  const found = candidates.find((p) => p && existsSync(p));
  if (!found) throw new Error("Chromium not found: install Debian's `chromium` package or set CHROMIUM_PATH");
  return found;
}

export function launchOptions() {
  return { executablePath: chromiumPath(), args: CHROMIUM_ARGS };
}
