// `npm test`: unit tests (vitest), the share suite again on a real S3 (Ceph RGW, scripts/test-s3.mjs),
// then browser tests (Playwright + Debian's Chromium) against a production build, then one summary
// line "N passed, N failed" over all of them.
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "./lib/ports.mjs";
import { awaitBackgroundBuild, ROOT, setup, sh } from "./lib/setup.mjs";


// Each phase's wall time goes into the summary: CI has a 30-minute budget, and this says where it went.
const phases = [];
let phaseStart = performance.now();
const endPhase = (name) => {
  const now = performance.now();
  phases.push(`${name} ${Math.round((now - phaseStart) / 1000)} s`);
  phaseStart = now;
};

// The Debian guest (only the browser tests use it) builds while the unit and S3 tests run.
const { debianGuest } = setup({ browser: true, s3: true, testImages: true, debianInBackground: true });
endPhase("set-up");
const results = join(ROOT, ".cache", "test-results");
rmSync(results, { recursive: true, force: true });
process.env.SNAP86_TEST_PORT ??= String(await freePort());
process.env.SNAP86_TEST_STORE_PORT ??= String(await freePort());
process.env.SNAP86_TEST_IMAGES_PORT ??= String(await freePort());

const unitStatus = sh("npx", ["vitest", "run", "--reporter=default", "--reporter=json", `--outputFile=${join(results, "unit.json")}`]);
endPhase("unit");
const s3Status = sh(process.execPath, ["scripts/test-s3.mjs", "--reporter=default", "--reporter=json", `--outputFile=${join(results, "s3.json")}`]);
endPhase("S3");
const debianSeconds = await awaitBackgroundBuild(debianGuest, "building the debian guest image");
if (debianSeconds !== null) endPhase(`waiting for the debian guest (built in ${debianSeconds} s beside the tests)`);
const buildStatus = sh("npx", ["vite", "build", "--logLevel", "warn"]);
endPhase("build");
const e2eArgs = ["playwright", "test", ...process.argv.slice(2)];
const e2eStatus = buildStatus === 0 ? sh("npx", e2eArgs) : 1;
endPhase("browser");

function count(file, pick) {
  try {
    return pick(JSON.parse(readFileSync(join(results, file), "utf8")));
  } catch {
    return { passed: 0, failed: 0 };
  }
}
const vitestCounts = (r) => ({ passed: r.numPassedTests, failed: r.numFailedTests });
const unit = count("unit.json", vitestCounts);
const s3 = count("s3.json", vitestCounts);
const e2e = count("e2e.json", (r) => ({ passed: r.stats.expected + r.stats.flaky, failed: r.stats.unexpected }));
console.log(`\ntime: ${phases.join(", ")}`);
console.log(
  `unit: ${unit.passed} passed, ${unit.failed} failed; on S3: ${s3.passed} passed, ${s3.failed} failed; browser: ${e2e.passed} passed, ${e2e.failed} failed`,
);
const anyStatus = unitStatus || s3Status || buildStatus || e2eStatus;
const counted = unit.failed + s3.failed + e2e.failed;
const failed = counted + (anyStatus && counted === 0 ? 1 : 0);
console.log(`${unit.passed + s3.passed + e2e.passed} passed, ${failed} failed`);
process.exit(anyStatus ? 1 : 0);
