// What `npm test` says at its end, read from the JSON reports of vitest and Playwright: counts,
// and each failed test named with the gist of its error (CI keeps only the end of the output).
import { readFileSync } from "node:fs";

/** The parsed report, or null when it is missing or unreadable (that run never finished). */
export function readReport(path) {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return null;
  }
}

export function vitestCounts(report) {
  return { passed: report?.numPassedTests ?? 0, failed: report?.numFailedTests ?? 0 };
}

export function playwrightCounts(report) {
  const stats = report?.stats;
  return { passed: (stats?.expected ?? 0) + (stats?.flaky ?? 0), failed: stats?.unexpected ?? 0 };
}

const ANSI = /\x1b\[[0-9;]*m/g;
/** An error's first lines, stack frames left out: Playwright puts "Expected"/"Received" on lines 3-4. */
export function errorGist(message) {
  const lines = String(message ?? "")
    .replace(ANSI, "")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("at "));
  return lines.slice(0, 4).join(" | ").slice(0, 300);
}

/** "file › test name: first line of the error" per failed test; `root` is cut from file names. */
export function vitestFailures(report, root = "") {
  return (report?.testResults ?? []).flatMap((file) =>
    (file.assertionResults ?? [])
      .filter((test) => test.status === "failed")
      .map((test) => `${root ? file.name.replace(`${root}/`, "") : file.name} › ${test.fullName}: ${errorGist(test.failureMessages?.[0])}`),
  );
}

/** "file:line › title: first line of the error" per spec that did not pass (after retries). */
export function playwrightFailures(report) {
  const walk = (suite) => [
    ...(suite.specs ?? [])
      .filter((spec) => !spec.ok)
      .map((spec) => {
        const error = (spec.tests ?? []).flatMap((test) => test.results ?? []).find((result) => result.error)?.error?.message;
        return `${spec.file}:${spec.line} › ${spec.title}: ${errorGist(error)}`;
      }),
    ...(suite.suites ?? []).flatMap(walk),
  ];
  return (report?.suites ?? []).flatMap(walk);
}

export function sumCounts(counts) {
  return counts.reduce((a, b) => ({ passed: a.passed + b.passed, failed: a.failed + b.failed }), { passed: 0, failed: 0 });
}
