// npm test's last lines (scripts/lib/test-reports.mjs): CI keeps only the end of the output, so
// the failed tests must be named there. The reports below are real ones (vitest 4, Playwright
// 1.65.1, one test passing and one failing in a group), cut down to the fields that are read.
import { describe, expect, it } from "vitest";
import { errorGist, playwrightCounts, playwrightFailures, sumCounts, vitestCounts, vitestFailures } from "../../../scripts/lib/test-reports.mjs";

const vitestReport = {
  numPassedTests: 1,
  numFailedTests: 1,
  testResults: [
    {
      name: "/repo/tests/unit/probe.test.ts",
      assertionResults: [
        { ancestorTitles: [], fullName: "passes", status: "passed", title: "passes", failureMessages: [] },
        {
          ancestorTitles: ["a group"],
          fullName: "a group fails with a message",
          status: "failed",
          title: "fails with a message",
          failureMessages: ["AssertionError: one is not two: expected 1 to be 2 // Object.is equality\n    at /repo/tests/unit/probe.test.ts:4:64\n    at file:///repo/node_modules/@vitest/runner/dist/chunk-artifact.js:302:11"],
        },
      ],
    },
  ],
};

const playwrightReport = {
  suites: [
    {
      title: "probe.spec.ts",
      file: "probe.spec.ts",
      specs: [{ title: "passes", ok: true, file: "probe.spec.ts", line: 2, tests: [{ results: [{ status: "passed" }], status: "expected" }] }],
      suites: [
        {
          title: "a group",
          file: "probe.spec.ts",
          specs: [
            {
              title: "fails with a message",
              ok: false,
              file: "probe.spec.ts",
              line: 4,
              tests: [
                {
                  status: "unexpected",
                  results: [{ status: "failed", error: { message: "Error: one is not two\n\n\x1b[2mexpect(\x1b[22m\x1b[31mreceived\x1b[39m\x1b[2m).\x1b[22mtoBe\x1b[2m(\x1b[22m\x1b[32mexpected\x1b[39m\x1b[2m) // Object.is equality\x1b[22m\n\nExpected: \x1b[32m2\x1b[39m\nReceived: \x1b[31m1\x1b[39m" } }],
                },
              ],
            },
          ],
        },
      ],
    },
  ],
  stats: { expected: 1, skipped: 0, unexpected: 1, flaky: 0 },
};

describe("npm test's summary", () => {
  it("counts passed and failed tests of both runners, and of both browser parts together", () => {
    expect(vitestCounts(vitestReport)).toEqual({ passed: 1, failed: 1 });
    expect(playwrightCounts(playwrightReport)).toEqual({ passed: 1, failed: 1 });
    expect(sumCounts([playwrightCounts(playwrightReport), playwrightCounts({ stats: { expected: 3, unexpected: 0, flaky: 1 } })])).toEqual({ passed: 5, failed: 1 });
  });

  it("names each failed test with its file and the gist of its error, nested groups included", () => {
    expect(vitestFailures(vitestReport, "/repo")).toEqual(["tests/unit/probe.test.ts › a group fails with a message: AssertionError: one is not two: expected 1 to be 2 // Object.is equality"]);
    expect(playwrightFailures(playwrightReport)).toEqual(["probe.spec.ts:4 › fails with a message: Error: one is not two | expect(received).toBe(expected) // Object.is equality | Expected: 2 | Received: 1"]);
  });

  it("reads a missing report (a run that never finished) as nothing, not as a crash", () => {
    expect(vitestCounts(null)).toEqual({ passed: 0, failed: 0 });
    expect(playwrightCounts(null)).toEqual({ passed: 0, failed: 0 });
    expect(vitestFailures(null)).toEqual([]);
    expect(playwrightFailures(null)).toEqual([]);
    expect(errorGist(undefined)).toBe("");
  });
});
