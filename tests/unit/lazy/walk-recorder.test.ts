// The recorder holds the page-walk hook between lazy restores and stamps the pages each walk
// reads; a capture asks it for the pages of the last seconds.
import { describe, expect, it, vi } from "vitest";
import type { LazyWasmHandle } from "../../../src/v86/instrumented-wasm";
import { V86_OFFSETS, type LazyImports } from "../../../src/v86/page-walker";
import { FLUSH_INTERVAL_MS, WalkRecorder, type RecorderCpu } from "../../../src/v86/walk-recorder";

const PAGE = 4096;
const RAM = 512 * PAGE;

function machine() {
  const memory = new WebAssembly.Memory({ initial: (RAM + 65536) / 65536 + 1 });
  new DataView(memory.buffer).setUint32(V86_OFFSETS.memorySize, RAM, true); // CR0 = 0: paging off, linear = physical
  let hooks: LazyImports | null = null;
  let lazy = false;
  // Stamping alone never installs the JS guards, so the fake CPU has no RAM helpers.
  const cpu = { wasm_memory: memory, mem8: { byteOffset: 65536 }, memory_size: [RAM], full_clear_tlb: vi.fn() } as unknown as RecorderCpu & { full_clear_tlb: ReturnType<typeof vi.fn> };
  const wasm: LazyWasmHandle = { exports: {}, memory, setLazy: (on) => void (lazy = on), isLazy: () => lazy, setHooks: (h) => void (hooks = h) };
  return { cpu, wasm, hooks: () => hooks };
}

describe("WalkRecorder", () => {
  it("stamps walked pages, lists the recent ones newest first, and gives the hook back", () => {
    vi.useFakeTimers();
    try {
      const m = machine();
      let now = 1000;
      const r = new WalkRecorder(m.cpu, m.wasm, () => now);
      r.arm();
      expect(m.wasm.isLazy()).toBe(true);
      expect(m.cpu.full_clear_tlb).toHaveBeenCalledTimes(1);
      m.hooks()!.snap86_page_walk(5 * PAGE + 100, 0);
      now = 3000;
      m.hooks()!.snap86_page_walk(9 * PAGE, 1);
      now = 9000;
      m.hooks()!.snap86_page_walk(2 * PAGE, 0);
      m.hooks()!.snap86_page_walk(2 * PAGE + 7, 0);
      expect(r.hotPages(6500)).toEqual([2, 9]); // page 5 was walked 8 s ago
      expect(r.hotPages(60_000)).toEqual([2, 9, 5]);
      r.forget(); // RAM replaced: nothing walked so far counts
      expect(r.hotPages(60_000)).toEqual([]);
      m.hooks()!.snap86_page_walk(7 * PAGE, 0);
      expect(r.hotPages(60_000)).toEqual([7]);
      vi.advanceTimersByTime(FLUSH_INTERVAL_MS * 2);
      expect(m.cpu.full_clear_tlb).toHaveBeenCalledTimes(3); // flushed so steady pages are walked again
      r.disarm();
      expect(m.wasm.isLazy()).toBe(false);
      expect(m.hooks()).toBeNull();
      vi.advanceTimersByTime(FLUSH_INTERVAL_MS * 2);
      expect(m.cpu.full_clear_tlb).toHaveBeenCalledTimes(3);
      r.arm(); // after a lazy restore: stamps from before it are gone
      expect(r.hotPages(60_000)).toEqual([]);
      // ...and the restore's first touches stand in for walks, in their order, until they age out.
      r.stampNow([40, 3, 12]);
      expect(r.hotPages(60_000)).toEqual([40, 3, 12]);
      now += 2000;
      m.hooks()!.snap86_page_walk(6 * PAGE, 0);
      expect(r.hotPages(1500)).toEqual([6]);
      r.disarm();
      r.stampNow([1]); // disarmed: nothing is stamped
      expect(r.hotPages(60_000)).not.toContain(1);
    } finally {
      vi.useRealTimers();
    }
  });
});
