import { describe, expect, it } from "vitest";
import { LazyRamSession, type LazyCpu } from "../../../src/v86/lazy-ram";
import type { LazyWasmHandle } from "../../../src/v86/instrumented-wasm";
import { V86_OFFSETS, type LazyImports } from "../../../src/v86/page-walker";

const RAM_OFFSET = 0x1000;
const PAGES = 16;

/** A v86-shaped CPU over a plain memory, enough for the session's bookkeeping. */
function fakeMachine() {
  const memory = new WebAssembly.Memory({ initial: 2 });
  new DataView(memory.buffer).setUint32(V86_OFFSETS.memorySize, PAGES * 4096, true);
  const ram = () => new Uint8Array(memory.buffer, RAM_OFFSET, PAGES * 4096);
  const log: string[] = [];
  const proto = {
    pack_memory(this: unknown) {
      log.push("pack");
      return { bitmap: null, packed_memory: ram().slice() };
    },
    unpack_memory() {
      log.push("eager-unpack");
    },
    read_blob: (o: number, l: number) => ram().subarray(o, o + l),
    write_blob: (b: Uint8Array, o: number) => ram().set(b, o),
  };
  const cpu = Object.assign(Object.create(proto) as LazyCpu, {
    wasm_memory: memory,
    mem8: { byteOffset: RAM_OFFSET },
    memory_size: [PAGES * 4096],
    read8: (a: number) => ram()[a],
    read16: () => 0,
    read32s: () => 0,
    write8: (a: number, v: number) => void (ram()[a] = v),
    write16: () => {},
    write32: () => {},
    full_clear_tlb: () => void log.push("clear-tlb"),
    jit_clear_cache: () => void log.push("clear-jit"),
  });
  let flag = false;
  let hooks: LazyImports | null = null;
  const wasm = {
    setLazy: (on: boolean) => void (flag = on),
    isLazy: () => flag,
    setHooks: (h: LazyImports | null) => void (hooks = h),
  } as unknown as LazyWasmHandle;
  // what v86's set_state does around unpack_memory
  const restore = () => {
    cpu.unpack_memory(null, null);
    cpu.full_clear_tlb();
  };
  return { cpu, wasm, ram, log, restore, hooks: () => hooks };
}

const saved = (page: number, dest: Uint8Array) => dest.fill(page + 1);

describe("LazyRamSession", () => {
  it("restores with only page 0 resident, the rest poisoned, and the flag on", async () => {
    const m = fakeMachine();
    const session = new LazyRamSession(m.cpu, m.wasm, saved, { poison: true });
    await session.restoreLazily(m.restore);
    expect(m.log).toEqual(["clear-tlb"]); // v86's eager unpack did not run
    expect(m.wasm.isLazy()).toBe(true);
    expect(m.hooks()).not.toBeNull();
    expect(m.ram()[0]).toBe(1);
    expect(m.ram()[4096 * 3]).toBe(0xcc);
    expect(session.stats).toEqual({ faults: 0, jsFaults: 0, pagesLoaded: 1 });
    // the override is gone once the restore is over
    m.cpu.unpack_memory(null, null);
    expect(m.log).toContain("eager-unpack");
  });

  it("faults pages for JS accesses and for page walks, once each", async () => {
    const m = fakeMachine();
    const session = new LazyRamSession(m.cpu, m.wasm, saved);
    await session.restoreLazily(m.restore);
    expect(m.cpu.read8(3 * 4096 + 5)).toBe(4);
    m.cpu.write_blob(new Uint8Array(4096 + 2), 5 * 4096 - 1); // spans pages 4, 5 and 6
    expect(m.ram()[6 * 4096]).toBe(0); // the write landed on top of the loaded page
    expect(m.ram()[6 * 4096 + 1]).toBe(7);
    m.hooks()!.snap86_page_walk(9 * 4096 + 8, 0); // paging off: linear = physical
    m.hooks()!.snap86_page_walk(9 * 4096 + 8, 1);
    expect(m.ram()[9 * 4096]).toBe(10);
    expect(session.stats).toEqual({ faults: 5, jsFaults: 4, pagesLoaded: 6 });
  });

  it("counts page 0 and the pages JavaScript reads as touches, for the working set", async () => {
    const m = fakeMachine();
    const touched: number[] = [];
    const session = new LazyRamSession(m.cpu, m.wasm, saved, { onTouch: (page) => touched.push(page) });
    await session.restoreLazily(m.restore);
    // What the CRNG reseed does before the guest runs: a JavaScript read of guest RAM.
    m.cpu.read8(7 * 4096 + 1);
    m.cpu.read8(7 * 4096 + 2); // resident now: no second touch from this path
    expect(touched).toEqual([0, 7]);
    expect(session.stats).toEqual({ faults: 1, jsFaults: 1, pagesLoaded: 2 });
  });

  it("loads everything before v86 packs memory, and switches itself off when complete", async () => {
    const m = fakeMachine();
    const session = new LazyRamSession(m.cpu, m.wasm, saved, { poison: true });
    await session.restoreLazily(m.restore);
    expect(session.finishIfComplete()).toBe(false);
    const packed = m.cpu.pack_memory() as { packed_memory: Uint8Array };
    expect(packed.packed_memory.includes(0xcc)).toBe(false);
    expect(session.residency!.complete).toBe(true);
    m.log.length = 0;
    expect(session.finishIfComplete()).toBe(true);
    expect(m.wasm.isLazy()).toBe(false);
    expect(m.hooks()).toBeNull();
    expect(m.log).toEqual(["clear-tlb", "clear-jit"]);
    expect(Object.prototype.hasOwnProperty.call(m.cpu, "pack_memory")).toBe(false);
    expect(Object.prototype.hasOwnProperty.call(m.cpu, "read_blob")).toBe(false);
  });

  it("saves without RAM: empty bitmap and no packed pages", async () => {
    const m = fakeMachine();
    const result = await LazyRamSession.saveWithoutRam(m.cpu, () => m.cpu.pack_memory() as { bitmap: { get_buffer(): ArrayBuffer }; packed_memory: Uint8Array });
    expect(result.packed_memory.length).toBe(0);
    expect(new Uint8Array(result.bitmap.get_buffer())).toEqual(new Uint8Array(PAGES / 8));
    expect(m.log).toEqual([]);
    expect(Object.prototype.hasOwnProperty.call(m.cpu, "pack_memory")).toBe(false);
  });
});
