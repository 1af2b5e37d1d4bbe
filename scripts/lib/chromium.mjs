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

/**
 * V8's baseline wasm compiler only (Liftoff, no tier-up), asked for with `{ liftoff: true }`:
 * SNAP86_TEST_LIFTOFF=1 for the browser tests (testLaunchOptions), SNAP86_BENCH_LIFTOFF=1 for the
 * benchmarks. With Debian's
 * Chromium 156.0.8078.114, V8 tiering up the wasm modules v86's JIT makes took a cold boot of the
 * built-in guest to 44-57 s where Liftoff alone took 17 s (Node: 13-15 s); but Liftoff code
 * decompresses checkpoints several times slower (a reset after a reload loads the golden state:
 * 15 s), so it is off by default: tests check the browser as users have it (2026-12-02).
 */
export const TEST_ARGS = ["--js-flags=--liftoff-only"];

export function launchOptions({ liftoff = false } = {}) {
  return { executablePath: chromiumPath(), args: [...CHROMIUM_ARGS, ...(liftoff ? TEST_ARGS : [])] };
}

/** What the browser tests launch (the Playwright config and specs that start their own browser). */
export function testLaunchOptions() {
  return launchOptions({ liftoff: process.env.SNAP86_TEST_LIFTOFF === "1" });
}
