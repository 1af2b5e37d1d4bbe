// npm test builds the Debian guest beside the unit tests (scripts/lib/setup.mjs): the child's
// status and output must come back, and a failure must not pass for a success.
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { awaitBackgroundBuild, ROOT, runInBackground } from "../../../scripts/lib/setup.mjs";

const LOG = `background-build-test-${process.pid}.log`;

describe("a build in the background", () => {
  afterAll(() => rmSync(join(ROOT, ".cache", LOG), { force: true }));

  it("resolves with the child's exit status and keeps its output in the log", async () => {
    const failed = await runInBackground(["-e", "console.log('made half'); console.error('then broke'); process.exit(3)"], LOG);
    expect(failed.status).toBe(3);
    expect(readFileSync(failed.log, "utf8")).toBe("made half\nthen broke\n");
    const ok = await runInBackground(["-e", "console.log('made')"], LOG);
    expect(ok.status).toBe(0);
    expect(readFileSync(ok.log, "utf8")).toBe("made\n");
  });

  it("is waited for: its seconds when it succeeded, null when nothing was built", async () => {
    expect(await awaitBackgroundBuild(runInBackground(["-e", ""], LOG), "a test build")).toBeGreaterThanOrEqual(0);
    expect(await awaitBackgroundBuild(Promise.resolve(null), "nothing")).toBeNull();
  });

  it("says a failed build failed instead of passing it for a success or ending the run", async () => {
    expect(await awaitBackgroundBuild(runInBackground(["-e", "process.exit(2)"], LOG), "a failing test build")).toBe("failed");
  });
});
