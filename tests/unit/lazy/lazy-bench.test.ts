// Measurements behind the lazy-restore figures; slow (several guest boots), so opt-in:
//   LAZY_BENCH=1 npx vitest run tests/unit/lazy/lazy-bench.test.ts
import { describe, expect, it } from "vitest";
import { lazyWasmFn, type LazyWasmHandle } from "../../../src/worker/lazy/load-lazy-wasm";
import { guestAvailable, LAZY_WASM, NodeGuest } from "./helpers/node-guest";

const ROUNDS = Number(process.env.LAZY_BENCH_ROUNDS ?? 2);
const WORKLOAD = "for i in 1 2 3 4 5 6; do md5sum /bin/busybox > /dev/null; ls -R /usr > /dev/null; done";

async function bootOnce(instrumented: boolean): Promise<{ seconds: number; mips: number; guest: NodeGuest; handle?: LazyWasmHandle }> {
  const lazy = instrumented ? lazyWasmFn(LAZY_WASM) : null;
  const guest = new NodeGuest({ wasm_fn: lazy?.wasm_fn, boot: true });
  const handle = lazy ? await lazy.loaded : undefined;
  const t0 = performance.now();
  await guest.waitForPrompt(300_000);
  const seconds = (performance.now() - t0) / 1000;
  const mips = guest.emulator.get_instruction_counter() / seconds / 1e6;
  return { seconds, mips, guest, handle };
}

describe.skipIf(!process.env.LAZY_BENCH || !guestAvailable())("lazy wasm overhead (bench)", () => {
  it("boot with the flag off vs the original wasm, and a workload with the flag on", async () => {
    const rows: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const instrumented of [false, true]) {
        const { seconds, mips, guest, handle } = await bootOnce(instrumented);
        rows.push(`${instrumented ? "instrumented, flag off" : "original wasm         "}: prompt ${seconds.toFixed(1)} s, ${mips.toFixed(0)} M instr/s`);
        if (handle) {
          // Flag on with every page resident: only the hook's cost remains on each TLB miss.
          handle.setHooks({ snap86_page_walk: () => {}, snap86_load_pdpte: () => {} });
          for (const on of [false, true, false, true]) {
            handle.setLazy(on);
            const t = performance.now();
            await guest.run(WORKLOAD, 120_000);
            rows.push(`  workload, flag ${on ? "on " : "off"}: ${(performance.now() - t).toFixed(0)} ms`);
          }
          handle.setLazy(false);
        }
        await guest.destroy();
      }
    }
    console.log(rows.join("\n"));
    expect(rows.length).toBeGreaterThan(0);
  }, 1_800_000);
});
