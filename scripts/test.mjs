// `npm test`: unit tests (vitest), the share suite again on a real S3 (Ceph RGW, scripts/test-s3.mjs),
// then browser tests (Playwright + Debian's Chromium) against a production build, then one summary
// line "N passed, N failed" over all of them.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "./lib/ports.mjs";
import { awaitBackgroundBuild, ROOT, setup, sh } from "./lib/setup.mjs";
import { playwrightCounts, playwrightFailures, readReport, sumCounts, vitestCounts, vitestFailures } from "./lib/test-reports.mjs";


// Each phase's wall time goes into the summary: CI has a 30-minute budget, and this says where it went.
const phases = [];
let phaseStart = performance.now();
const endPhase = (name) => {
  const now = performance.now();
  phases.push(`${name} ${Math.round((now - phaseStart) / 1000)} s`);
  phaseStart = now;
};

// The Debian guest (only debian.spec.ts uses it) builds while the unit, S3 and other browser tests run.
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
const build = () => sh("npx", ["vite", "build", "--logLevel", "warn"]);
const playwright = (part, report) =>
  sh("npx", ["playwright", "test", ...process.argv.slice(2)], { env: { ...process.env, SNAP86_E2E_PART: part, SNAP86_E2E_REPORT: join(results, report) } });
const reports = ["e2e.json"];
let debianFailed = false;
let buildStatus;
let e2eStatus;
// Only debian.spec.ts needs the Debian guest: the other browser tests run while it still builds
// (on a fresh machine debootstrap downloads for minutes), then the app is built again with it.
// (A build that ended while the tests above held the event loop is seen within these 100 ms.)
const debianBuilt = await Promise.race([debianGuest, new Promise((resolve) => setTimeout(() => resolve("building"), 100))]);
if (debianBuilt === "building" && process.argv.length === 2) {
  reports.push("e2e-debian.json");
  // Once more if it failed: a file the Debian build renames in public/ as Vite copies it fails a copy.
  buildStatus = build() && build();
  endPhase("build");
  e2eStatus = buildStatus === 0 ? playwright("without-debian", "e2e.json") : 1;
  endPhase("browser");
  const debianSeconds = await debianBuild();
  endPhase(debianSeconds === null ? "waiting for the debian guest (its build failed)" : `waiting for the debian guest (built in ${debianSeconds} s beside the tests)`);
  const rebuildStatus = debianSeconds === null ? 1 : build();
  buildStatus ||= rebuildStatus;
  e2eStatus = (rebuildStatus === 0 ? playwright("debian", "e2e-debian.json") : 1) || e2eStatus;
  endPhase("browser, the debian guest's");
} else {
  const debianSeconds = await debianBuild();
  if (debianSeconds !== null) endPhase(`waiting for the debian guest (built in ${debianSeconds} s beside the tests)`);
  buildStatus = build();
  endPhase("build");
  e2eStatus = buildStatus === 0 ? playwright("all", "e2e.json") : 1;
  endPhase("browser");
}

/** Seconds the background build took (null: nothing was built); a failed build is counted, the rest goes on. */
async function debianBuild() {
  const seconds = await awaitBackgroundBuild(debianGuest, "building the debian guest image");
  if (seconds !== "failed") return seconds;
  debianFailed = true;
  return null;
}

const [unitReport, s3Report, ...e2eReports] = ["unit.json", "s3.json", ...reports].map((file) => readReport(join(results, file)));
const unit = vitestCounts(unitReport);
const s3 = vitestCounts(s3Report);
const e2e = sumCounts(e2eReports.map(playwrightCounts));
// CI keeps only the end of the output: name what failed there, with the gist of its error.
const failures = [
  ...vitestFailures(unitReport, ROOT),
  ...vitestFailures(s3Report, ROOT).map((f) => `on S3: ${f}`),
  ...e2eReports.flatMap(playwrightFailures),
  ...(debianFailed ? ["building the debian guest image (its log is above)"] : []),
];
if (failures.length > 0) console.log(`\nfailed:\n${failures.map((f) => `  - ${f}`).join("\n")}`);
console.log(`\ntime: ${phases.join(", ")}`);
console.log(
  `unit: ${unit.passed} passed, ${unit.failed} failed; on S3: ${s3.passed} passed, ${s3.failed} failed; browser: ${e2e.passed} passed, ${e2e.failed} failed`,
);
const anyStatus = unitStatus || s3Status || buildStatus || e2eStatus || (debianFailed ? 1 : 0);
const counted = unit.failed + s3.failed + e2e.failed;
const failed = counted + (anyStatus && counted === 0 ? 1 : 0);
console.log(`${unit.passed + s3.passed + e2e.passed} passed, ${failed} failed`);
process.exit(anyStatus ? 1 : 0);
