import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/unit/**/*.test.ts", "server/**/*.test.ts"],
    environment: "node",
    testTimeout: 60_000,
    // expect.poll waits for an event; its 1 s default is a guessed time that a loaded machine
    // (CI beside other jobs) overruns. The test's own timeout still bounds a wait that never ends.
    expect: { poll: { timeout: 30_000 } },
  },
});
