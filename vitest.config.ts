import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/unit/**/*.test.ts", "server/**/*.test.ts"],
    environment: "node",
    testTimeout: 60_000,
    // Vitest's default is one file at a time per core less one: on 2 cores, one. Many files wait
    // (I/O, a Node v86 between its timer ticks): with two, the suite took 190 s instead of 272 s.
    maxWorkers: Math.max(2, availableParallelism()),
    // expect.poll waits for an event; its 1 s default is a guessed time that a loaded machine
    // (CI beside other jobs) overruns. The test's own timeout still bounds a wait that never ends.
    expect: { poll: { timeout: 30_000 } },
  },
});
