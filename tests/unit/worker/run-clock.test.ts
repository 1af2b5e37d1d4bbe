import { describe, expect, it } from "vitest";
import { RunClock } from "../../../src/emulator/run-clock";

describe("RunClock", () => {
  it("counts uptime across pauses and MIPS from the instruction counter, through its wrap", () => {
    let now = 1000;
    const clock = new RunClock(() => now);
    clock.started(0);
    now = 2000;
    clock.sample(50_000_000);
    expect(clock.stats("running")).toEqual({ state: "running", uptimeMs: 1000, mips: 50 });
    clock.stopped();
    now = 9000; // paused for 7 s: not uptime
    expect(clock.stats("paused")).toEqual({ state: "paused", uptimeMs: 1000, mips: 0 });
    clock.started(2 ** 32 - 10_000_000);
    now = 10_000;
    clock.sample(20_000_000); // wrapped: 30 M instructions in 1 s
    expect(clock.stats("running")).toEqual({ state: "running", uptimeMs: 2000, mips: 30 });
    now = 11_000;
    clock.sample(5); // restarted by a restore: a "difference" past half the range is skipped
    expect(clock.stats("running").mips).toBe(30);
  });

  it("starts a new stretch on restart, and zeroes uptime on a power cycle or when off", () => {
    let now = 0;
    const clock = new RunClock(() => now);
    clock.started(0);
    now = 5000;
    clock.restart();
    now = 6000;
    expect(clock.stats("running").uptimeMs).toBe(1000);
    clock.stopped();
    clock.zeroUptime();
    expect(clock.stats("paused").uptimeMs).toBe(0);
    clock.started(0);
    now = 7000;
    clock.sample(10_000_000);
    clock.off();
    expect(clock.stats("off")).toEqual({ state: "off", uptimeMs: 0, mips: 0 });
  });
});
