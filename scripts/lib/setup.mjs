// Everything `npm start` and `npm test` need before they run, each step skipped when already done:
// npm packages, the guest image (built from Debian packages), the instrumented v86 wasm.
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));

export function sh(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: "inherit", ...options });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

function must(cmd, args, what) {
  const status = sh(cmd, args);
  if (status !== 0) {
    console.error(`snap86: ${what} failed (exit ${status})`);
    process.exit(status);
  }
}

function npmPackagesCurrent() {
  const installed = join(ROOT, "node_modules", ".package-lock.json");
  if (!existsSync(installed)) return false;
  return statSync(installed).mtimeMs >= statSync(join(ROOT, "package-lock.json")).mtimeMs;
}

export function setup() {
  if (!npmPackagesCurrent()) must("npm", ["ci", "--no-audit", "--no-fund"], "npm ci");
  const guestCurrent = sh(process.execPath, ["scripts/build-guest.mjs", "--check"], { stdio: "ignore" }) === 0;
  if (!guestCurrent) must(process.execPath, ["scripts/build-guest.mjs"], "building the guest image");
  must(process.execPath, ["scripts/instrument-wasm.mjs"], "instrumenting v86's wasm");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) setup();
