// Everything `npm start` and `npm test` need before they run, each step skipped when already done:
// Debian packages (system-packages.mjs), npm packages, the guest image (built from Debian
// packages), the instrumented v86 wasm. Only node's own modules here: this runs before `npm ci`.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, openSync, readFileSync, statSync } from "node:fs";
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
 * `node <args>` as a child process whose output goes to `.cache/<logName>`: resolves with
 * { status, log, seconds } when it ends, so the caller goes on meanwhile.
 */
export function runInBackground(args, logName) {
  const log = join(ROOT, ".cache", logName);
  mkdirSync(dirname(log), { recursive: true });
  const out = openSync(log, "w");
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", out, out] });
  return new Promise((resolve) => {
    const done = (status) => resolve({ status, log, seconds: Math.round((performance.now() - started) / 1000) });
    child.on("error", () => done(1));
    child.on("exit", (code) => done(code ?? 1));
  });
}

/**
 * Waits for a background build (runInBackground). Resolves with its seconds, null when nothing was
 * built, or "failed" once the end of its log is printed (the caller counts it and goes on).
 */
export async function awaitBackgroundBuild(build, what) {
  const result = await build;
  if (!result) return null;
  if (result.status === 0) return result.seconds;
  console.error(readFileSync(result.log, "utf8").split("\n").slice(-40).join("\n"));
  console.error(`snap86: ${what} failed (exit ${result.status}); its log: ${result.log}`);
  return "failed";
}

/**
 * `browser`: the run needs Chromium (tests, benchmarks), not only the app; `s3`: a Ceph S3 gateway
 * (tests); `testImages`: the boot media the image tests and bench:images use (test-images.mjs);
 * `debianInBackground`: the Debian guest builds while the caller goes on, and `debianGuest` in the
 * result is the build to pass to awaitBackgroundBuild before anything uses that guest (npm test
 * runs the unit, S3 and most browser tests meanwhile); otherwise it is built here.
 */
export function setup({ browser = false, s3 = false, testImages = false, debianInBackground = false } = {}) {
  const guestCurrent = sh(process.execPath, ["scripts/build-guest.mjs", "--check"], { stdio: "ignore" }) === 0;
  // The debian guest sits on the busybox guest's kernel: a new busybox build means a new one too.
  const debianCurrent = guestCurrent && sh(process.execPath, ["scripts/build-debian-guest.mjs", "--check"], { stdio: "ignore" }) === 0;
  ensureSystemPackages({ guestPackages: guestCurrent ? null : guestBuildPackages(), debianGuest: !debianCurrent, browser, s3, extra: testImages ? TEST_IMAGE_PACKAGES : [] });
  if (!npmPackagesCurrent()) must("npm", ["ci", "--no-audit", "--no-fund"], "npm ci");
  if (!guestCurrent) must(process.execPath, ["scripts/build-guest.mjs"], "building the guest image");
  // debootstrap of the Debian userland: 1-2 min where i386 binaries run, ~5 min under QEMU; cached by its inputs.
  // Under QEMU it is the longest step, and only the browser tests use that guest.
  let debianGuest = Promise.resolve(null);
  if (!debianCurrent && debianInBackground) {
    console.error("snap86: building the debian guest in the background (log: .cache/debian-guest-build.log)");
    debianGuest = runInBackground(["scripts/build-debian-guest.mjs"], "debian-guest-build.log");
  } else if (!debianCurrent) must(process.execPath, ["scripts/build-debian-guest.mjs"], "building the debian guest image");
  must(process.execPath, ["scripts/instrument-wasm.mjs"], "instrumenting v86's wasm");
  // The guest's clean booted state a first visit starts from (~10-20 s headless boot; skipped
  // while the guest build, v86 and the builder are unchanged: keyed by their hashes).
  must(process.execPath, ["scripts/publish-state.mjs"], "publishing the guest's clean booted state");
  if (testImages) buildTestImages();
  return { debianGuest };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) setup();
