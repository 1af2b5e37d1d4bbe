// The JIT tuning reaches the real wasm: v86 reads these values when it cuts the next module, and
// nothing else would show a typo in an index (a wrong index sets another of v86's switches).
import type { V86 } from "v86";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JIT_TUNING, tuneJit, type JitConfigurable } from "../../../src/v86/jit-tuning";
import { bareV86 } from "./bare-v86";

describe("v86 JIT tuning", () => {
  let emulator: V86;
  let exports: JitConfigurable;
  beforeAll(async () => {
    emulator = await bareV86();
    exports = (emulator as unknown as { v86: { cpu: { wm: { exports: JitConfigurable } } } }).v86.cpu.wm.exports;
  });
  afterAll(async () => {
    await emulator?.destroy();
  });

  it("changes v86's page limit and extra blocks from its defaults, and leaves the JIT on", () => {
    // v86 0.5.462's defaults: JIT on (index 0 = JIT_DISABLED 0), 3 pages, loop safety on, 250 extra blocks.
    expect([0, 1, 2, 3].map((i) => exports.get_jit_config(i))).toEqual([0, 3, 1, 250]);
    tuneJit(exports);
    expect([0, 1, 2, 3].map((i) => exports.get_jit_config(i))).toEqual([0, 1, 1, 300]);
    expect(JIT_TUNING.map(([index]) => index)).toEqual([1, 3]);
  });
});
