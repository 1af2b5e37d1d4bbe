// v86's own restore path sets the TSC through cpu.set_tsc; these tests pin down v86's offset bug
// on the real wasm and that the wrapper puts the guest's TSC exactly where a state had it.
import type { V86 } from "v86";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keepTscContinuous, readTsc, type TscCpu } from "../../../src/v86/continuous-tsc";
import { bareV86 } from "./bare-v86";

const MS = 1_000_000n; // TSC ticks per ms
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function machine(): Promise<{ emulator: V86; cpu: TscCpu }> {
  const emulator = await bareV86();
  return { emulator, cpu: (emulator as unknown as { v86: { cpu: TscCpu } }).v86.cpu };
}

const split = (v: bigint): [number, number] => [Number(v & 0xffff_ffffn), Number(v >> 32n)];

describe("guest TSC across set_state", () => {
  let plain: Awaited<ReturnType<typeof machine>>;
  let fixed: Awaited<ReturnType<typeof machine>>;
  beforeAll(async () => {
    plain = await machine();
    fixed = await machine();
    keepTscContinuous(fixed.cpu);
    // Let the offsets drift away from zero, as a machine that ran for a while has them.
    await sleep(30);
  });
  afterAll(async () => {
    await plain?.emulator.destroy();
    await fixed?.emulator.destroy();
  });

  it("v86's own set_tsc is off by its previous offset (the bug the wrapper exists for)", async () => {
    plain.cpu.set_tsc(...split(5_000n * MS));
    await sleep(20);
    plain.cpu.set_tsc(...split(1_000n * MS));
    const error = readTsc(plain.cpu) - 1_000n * MS;
    expect(error).toBeGreaterThan(1_000n * MS); // off by seconds, not microseconds
  });

  it("lands on the wanted value each time, however many restores came before", async () => {
    for (const wanted of [5_000n * MS, 1_000n * MS, 123_456n * MS, 7n]) {
      await sleep(15);
      fixed.cpu.set_tsc(...split(wanted));
      const error = readTsc(fixed.cpu) - wanted;
      expect(error).toBeGreaterThanOrEqual(0n);
      // A read a moment later: far under the bug's seconds, even if a loaded machine's scheduler
      // takes this thread off the core in between (2 ms was tight for that).
      expect(error).toBeLessThan(100n * MS);
    }
  });

  it("keeps counting at the same rate after the fix", async () => {
    fixed.cpu.set_tsc(...split(10_000n * MS));
    const a = readTsc(fixed.cpu);
    await sleep(50);
    const elapsed = Number(readTsc(fixed.cpu) - a) / 1e6;
    expect(elapsed).toBeGreaterThan(45);
    expect(elapsed).toBeLessThan(500);
  });

  it("is installed once per CPU", () => {
    const before = fixed.cpu.set_tsc;
    keepTscContinuous(fixed.cpu);
    expect(fixed.cpu.set_tsc).toBe(before);
  });
});
