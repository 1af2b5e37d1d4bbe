// Engine-level proof on the real Debian guest: the instrumented wasm boots with the hook silent,
// the hook sees page walks once enabled, and a state saved without RAM restores lazily into a
// fresh emulator with RAM poisoned, answering like an eager restore.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LazyRamSession } from "../../../src/v86/lazy-ram";
import { lazyWasmFn, type LazyWasmHandle } from "../../../src/v86/instrumented-wasm";
import { pagesForAccess, translate, V86_OFFSETS, type WalkContext } from "../../../src/v86/page-walker";
import { guestAvailable, LAZY_WASM, NodeGuest } from "./helpers/node-guest";

const BOOT_TIMEOUT = 180_000;
const COMMANDS = [
  "uname -a",
  "md5sum /bin/busybox",
  "ls /",
  // RAM -> disk (bus-master DMA write), then disk -> RAM after the page cache is dropped
  "cp /bin/busybox /root/b && sync && echo 3 > /proc/sys/vm/drop_caches && md5sum /root/b && rm /root/b && sync",
];

describe.skipIf(!guestAvailable())("lazy restore on the Debian guest (Node)", () => {
  let guest: NodeGuest;
  let handle: LazyWasmHandle;
  const walks: number[] = [];
  let pdpteCalls = 0;

  beforeAll(async () => {
    const { wasm_fn, loaded } = lazyWasmFn(LAZY_WASM);
    guest = new NodeGuest({ wasm_fn, boot: true });
    handle = await loaded;
    handle.setHooks({
      snap86_page_walk: (addr) => void walks.push(addr >>> 0),
      snap86_load_pdpte: () => void pdpteCalls++,
    });
    const t0 = performance.now();
    await guest.waitForPrompt(BOOT_TIMEOUT);
    console.log(`instrumented wasm, flag off: prompt after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }, BOOT_TIMEOUT + 10_000);

  afterAll(async () => {
    await guest?.destroy();
  });

  it("never calls the hook while the flag is off", () => {
    expect(handle.isLazy()).toBe(false);
    expect(walks).toHaveLength(0);
    expect(pdpteCalls).toBe(0);
  });

  it("reads CPU registers at the offsets the walker assumes", async () => {
    const cpu = (await guest.cpu) as Awaited<typeof guest.cpu>;
    const view = new DataView(cpu.wasm_memory.buffer);
    const cr0 = view.getUint32(V86_OFFSETS.cr0, true);
    const PE_WP_PG = 0x8001_0001;
    // The booted kernel runs protected (PE) with paging (PG) and write protection (WP).
    expect((cr0 & PE_WP_PG) >>> 0).toBe(PE_WP_PG);
    expect(cr0 | 0).toBe(cpu.cr[0]); // v86's own JS view of cr[0]
    const cr3 = view.getUint32(V86_OFFSETS.cr3, true);
    expect(cr3 | 0).toBe(cpu.cr[3]);
    expect(cr3 & 0xfff).toBe(0);
    expect(view.getUint32(V86_OFFSETS.cr4, true) | 0).toBe(cpu.cr[4]);
    expect(view.getUint32(V86_OFFSETS.memorySize, true)).toBe(cpu.memory_size[0]);
    expect(cpu.memory_size[0]).toBe(128 << 20);
    expect(cr3).toBeLessThan(cpu.memory_size[0]);
  });

  it("calls the hook for page walks once the flag is on, and agrees with v86's translation", async () => {
    const cpu = await guest.cpu;
    handle.setLazy(true);
    cpu.full_clear_tlb();
    expect(await guest.run("echo hook-on")).toBe("hook-on\n");
    handle.setLazy(false);
    expect(walks.length).toBeGreaterThan(100);
    expect(walks.some((a) => a >= 0xc000_0000)).toBe(true); // kernel
    expect(walks.some((a) => a < 0xc000_0000)).toBe(true); // user space (the shell)

    // For walked addresses that are mapped, the walker's last page must be where v86's own
    // walk puts it, and its first page the directory. The TLB is cleared before each v86
    // translation: Linux flushes some kernel mappings lazily, so a cached entry may be stale.
    const ctx: WalkContext = { view: new DataView(cpu.wasm_memory.buffer), ramOffset: cpu.mem8.byteOffset };
    const cr3Page = ctx.view.getUint32(V86_OFFSETS.cr3, true) >>> 12;
    const v86Translate = (cpu as unknown as { translate_address_system_read(a: number): number }).translate_address_system_read;
    let compared = 0;
    for (const addr of walks.slice(-300)) {
      const pages = pagesForAccess(ctx, addr);
      if (pages.length > 0) expect(pages[0]).toBe(cr3Page);
      const phys = translate(ctx, addr);
      if (phys === null) continue; // v86 would raise #PF in the guest; do not provoke it
      cpu.full_clear_tlb();
      expect(phys).toBe(((v86Translate(addr) >>> 0) & ~0xfff) >>> 0);
      // (the target may also be the directory or table page itself, hence toContain)
      if (phys < cpu.memory_size[0]) expect(pages).toContain(phys >>> 12);
      compared++;
    }
    expect(compared).toBeGreaterThan(50);

    const before = walks.length;
    expect(await guest.run("echo hook-off")).toBe("hook-off\n");
    expect(walks.length).toBe(before);
  });

  it("restores lazily from a RAM copy and answers like an eager restore", async () => {
    const cpu = await guest.cpu;
    await guest.emulator.stop();
    await guest.excludeDiskFromState();
    const ramSize = cpu.memory_size[0];
    const ram = new Uint8Array(cpu.wasm_memory.buffer, cpu.mem8.byteOffset, ramSize).slice();
    const disk = await guest.diskCopy();
    const lazyState = await LazyRamSession.saveWithoutRam(cpu, () => guest.emulator.save_state());
    const fullState = await guest.emulator.save_state();
    console.log(`state without RAM ${(lazyState.byteLength / 1e6).toFixed(2)} MB, with RAM ${(fullState.byteLength / 1e6).toFixed(2)} MB`);
    expect(lazyState.byteLength).toBeLessThan(fullState.byteLength - 8_000_000);

    // Eager reference: the original wasm, a full state.
    const eager = new NodeGuest({ disk: disk.slice(0), boot: false });
    const eagerCpu = await eager.cpu;
    void eagerCpu;
    await eager.excludeDiskFromState();
    let t = performance.now();
    await eager.emulator.restore_state(fullState);
    const eagerRestoreMs = performance.now() - t;
    await eager.emulator.run();
    const expected: string[] = [];
    for (const c of COMMANDS) expected.push(await eager.run(c));
    await eager.destroy();

    // Lazy: instrumented wasm, RAM served page by page from the copy, the rest poisoned.
    const { wasm_fn, loaded } = lazyWasmFn(LAZY_WASM);
    const lazy = new NodeGuest({ wasm_fn, disk: disk.slice(0), boot: false });
    const lazyCpu = await lazy.cpu;
    const lazyHandle = await loaded;
    await lazy.excludeDiskFromState();
    const session = new LazyRamSession(
      lazyCpu,
      lazyHandle,
      (page, dest) => dest.set(ram.subarray(page << 12, (page + 1) << 12)),
      { poison: true },
    );
    t = performance.now();
    await session.restoreLazily(() => lazy.emulator.restore_state(lazyState));
    const lazyRestoreMs = performance.now() - t;
    expect(lazyHandle.isLazy()).toBe(true);
    expect(session.stats.pagesLoaded).toBe(1); // page 0 only
    await lazy.emulator.run();

    lazy.probe = () => session.stats.faults;
    const actual: string[] = [];
    let faultsAtFirstByte = -1;
    for (const c of COMMANDS) {
      actual.push(await lazy.run(c));
      if (faultsAtFirstByte < 0) faultsAtFirstByte = lazy.probeLog[lazy.lastOutputStart];
    }
    const afterCommands = session.stats.pagesLoaded;
    console.log(
      `restore_state: eager ${eagerRestoreMs.toFixed(0)} ms, lazy ${lazyRestoreMs.toFixed(0)} ms; ` +
        `faults before first output ${faultsAtFirstByte} (${((faultsAtFirstByte * 4096) / 2 ** 20).toFixed(2)} MiB); ` +
        `after ${COMMANDS.length} commands ${afterCommands} pages, ${session.stats.jsFaults} faults from JS paths (${((afterCommands * 4096) / 2 ** 20).toFixed(1)} MiB of ${ramSize >> 20} MiB)`,
    );
    expect(actual).toEqual(expected);
    expect(actual[1]).toMatch(/^[0-9a-f]{32}  \/bin\/busybox\n$/);
    expect(faultsAtFirstByte).toBeGreaterThan(10);
    expect(actual[3]).toBe(expected[1].replace("/bin/busybox", "/root/b"));
    expect(session.stats.jsFaults).toBeGreaterThan(0);
    expect(afterCommands).toBeLessThan(ramSize >>> 12);

    // Prefetch the rest, then the lazy machinery must switch itself off.
    for (const page of [...session.residency!.missing()]) session.load(page);
    expect(session.finishIfComplete()).toBe(true);
    expect(lazyHandle.isLazy()).toBe(false);
    const fullRam = new Uint8Array(lazyCpu.wasm_memory.buffer, lazyCpu.mem8.byteOffset, ramSize);
    expect(fullRam.subarray(0x100000, 0x100400)).not.toEqual(new Uint8Array(0x400).fill(0xcc));
    expect(await lazy.run("md5sum /bin/busybox")).toBe(expected[1]);
    await lazy.destroy();
  }, 120_000);
});
