// `npm test`: unit tests (vitest), then browser tests (Playwright + Debian's Chromium) against a
// production build, then one summary line "N passed, N failed" over both.
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "./lib/ports.mjs";
import { ROOT, setup, sh } from "./lib/setup.mjs";


setup({ browser: true });
const results = join(ROOT, ".cache", "test-results");
rmSync(results, { recursive: true, force: true });
process.env.SNAP86_TEST_PORT ??= String(await freePort());
process.env.SNAP86_TEST_STORE_PORT ??= String(await freePort());

const unitStatus = sh("npx", ["vitest", "run", "--reporter=default", "--reporter=json", `--outputFile=${join(results, "unit.json")}`]);
const buildStatus = sh("npx", ["vite", "build", "--logLevel", "warn"]);
const e2eArgs = ["playwright", "test", ...process.argv.slice(2)];
const e2eStatus = buildStatus === 0 ? sh("npx", e2eArgs) : 1;

function count(file, pick) {
  try {
    return pick(JSON.parse(readFileSync(join(results, file), "utf8")));
  } catch {
    return { passed: 0, failed: 0 };
  }
}
const unit = count("unit.json", (r) => ({ passed: r.numPassedTests, failed: r.numFailedTests }));
const e2e = count("e2e.json", (r) => ({ passed: r.stats.expected + r.stats.flaky, failed: r.stats.unexpected }));
console.log(`\nunit: ${unit.passed} passed, ${unit.failed} failed; browser: ${e2e.passed} passed, ${e2e.failed} failed`);
const failed = unit.failed + e2e.failed + (unitStatus || buildStatus || e2eStatus ? (unit.failed + e2e.failed === 0 ? 1 : 0) : 0);
console.log(`${unit.passed + e2e.passed} passed, ${failed} failed`);
process.exit(unitStatus || buildStatus || e2eStatus ? 1 : 0);
