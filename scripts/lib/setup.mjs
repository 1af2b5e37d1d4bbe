// Everything `npm start` and `npm test` need before they run, each step skipped when already done:
// Debian packages (system-packages.mjs), npm packages, the guest image (built from Debian
// packages), the instrumented v86 wasm. Only node's own modules here: this runs before `npm ci`.
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureSystemPackages } from "./system-packages.mjs";
import { buildTestImages, TEST_IMAGE_PACKAGES } from "./test-images.mjs";

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

/** The builder's host-tool packages (`build-guest.mjs --print-apt-deps`). */
function guestBuildPackages() {
  const r = spawnSync(process.execPath, ["scripts/build-guest.mjs", "--print-apt-deps"], { cwd: ROOT, encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim().split(/\s+/).filter(Boolean) : [];
}

/**
 * `browser`: the run needs Chromium (tests, benchmarks), not only the app; `s3`: a Ceph S3 gateway
 * (tests); `testImages`: the boot media the image tests and bench:images use (test-images.mjs).
 */
export function setup({ browser = false, s3 = false, testImages = false } = {}) {
  const guestCurrent = sh(process.execPath, ["scripts/build-guest.mjs", "--check"], { stdio: "ignore" }) === 0;
  // The debian guest sits on the busybox guest's kernel: a new busybox build means a new one too.
  const debianCurrent = guestCurrent && sh(process.execPath, ["scripts/build-debian-guest.mjs", "--check"], { stdio: "ignore" }) === 0;
  ensureSystemPackages({ guestPackages: guestCurrent ? null : guestBuildPackages(), debianGuest: !debianCurrent, browser, s3, extra: testImages ? TEST_IMAGE_PACKAGES : [] });
  if (!npmPackagesCurrent()) must("npm", ["ci", "--no-audit", "--no-fund"], "npm ci");
  if (!guestCurrent) must(process.execPath, ["scripts/build-guest.mjs"], "building the guest image");
  // debootstrap of the Debian userland: ~1-2 min with the downloads, cached by its inputs.
  if (!debianCurrent) must(process.execPath, ["scripts/build-debian-guest.mjs"], "building the debian guest image");
  must(process.execPath, ["scripts/instrument-wasm.mjs"], "instrumenting v86's wasm");
  // The guest's clean booted state a first visit starts from (~10-20 s headless boot; skipped
  // while the guest build, v86 and the builder are unchanged: keyed by their hashes).
  must(process.execPath, ["scripts/publish-state.mjs"], "publishing the guest's clean booted state");
  if (testImages) buildTestImages();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) setup();
