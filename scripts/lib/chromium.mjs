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
 * Browser tests only: V8 compiles WebAssembly with its baseline compiler (Liftoff) and never
 * tiers up. v86's JIT makes a new wasm module for every hot block of guest code; with Debian's
 * Chromium 156.0.8078.114 tiering them up made a cold boot of the built-in guest take 44-57 s
 * where Liftoff alone took 17 s (the same boot in Node: 13-15 s), and CI spent most of its time
 * booting (2026-12-02). Tests check behaviour, not speed; benchmarks keep the browser's defaults,
 * what users get.
 */
export const TEST_ARGS = ["--js-flags=--liftoff-only"];

export function launchOptions({ tests = false } = {}) {
  return { executablePath: chromiumPath(), args: [...CHROMIUM_ARGS, ...(tests ? TEST_ARGS : [])] };
}
