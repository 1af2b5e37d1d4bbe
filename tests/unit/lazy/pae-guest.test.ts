// The page walk under PAE on a real guest: the project's PAE floppy (scripts/test-images/pae.asm)
// runs in v86 with CR4.PAE and CR0.PG, 64-bit entries, 2 MiB and 4 KiB pages and RAM reached at
// non-identity addresses. The walker must find the pages v86's own walk uses, through the PDPTE
// registers v86 keeps at wasm offset 968, and a lazy restore with unloaded RAM poisoned must run
// the program on with the very checksums (over 4 MiB it rewrites) the original printed.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LazyRamSession } from "../../../src/v86/lazy-ram";
import { lazyWasmFn, type LazyWasmHandle } from "../../../src/v86/instrumented-wasm";
import { pagesForAccess, pagingMode, pdptPage, translate, V86_OFFSETS, type WalkContext } from "../../../src/v86/page-walker";
import { testImage } from "../../support/test-images";
import { guestAvailable, LAZY_WASM, NodeGuest } from "./helpers/node-guest";

/** pae.asm's layout: page tables, the data page, and the 4 MiB work area behind its two aliases. */
const PDPT = 0x10000;
const PD1 = 0x13000;
const PT1_SECOND = 0x15000;
const PD2 = 0x16000;
const PT2 = 0x17000;
const PD3 = 0x18000;
const DATA_PHYS = 0x20000;
const WORK_PHYS = 0x40_0000;

const LINE = /count (\d+) sum ([0-9a-f]{8}) (\w+)\r?\n/g;
const lines = (text: string): Map<number, string> => new Map([...text.matchAll(LINE)].map((m) => [Number(m[1]), `${m[2]} ${m[3]}`]));

function floppy(): ArrayBuffer {
  const data = readFileSync(testImage("pae-floppy.img").path);
  return data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
}

type V86Cpu = Awaited<NodeGuest["cpu"]> & { full_clear_tlb(): void; translate_address_system_read(addr: number): number };

describe.skipIf(!guestAvailable())("PAE paging on the project's PAE floppy (Node)", () => {
  let guest: NodeGuest;
  let handle: LazyWasmHandle;
  let cpu: V86Cpu;
  const walks: number[] = [];

  beforeAll(async () => {
    const { wasm_fn, loaded } = lazyWasmFn(LAZY_WASM);
    guest = new NodeGuest({ wasm_fn, floppy: floppy(), boot: true });
    handle = await loaded;
    handle.setHooks({ snap86_page_walk: (addr) => void walks.push(addr >>> 0), snap86_load_pdpte: () => undefined });
    cpu = (await guest.cpu) as V86Cpu;
    await guest.waitFor((t) => /count 3 sum [0-9a-f]{8} ok/.test(t), 60_000);
  }, 90_000);

  afterAll(async () => {
    await guest?.destroy();
  });

  const context = (c: V86Cpu): WalkContext => ({ view: new DataView(c.wasm_memory.buffer), ramOffset: c.mem8.byteOffset });

  it("runs with PAE paging; the PDPTE registers at 968 hold the PDPT's four entries", () => {
    const ctx = context(cpu);
    expect(pagingMode(ctx)).toEqual({ paging: true, pae: true });
    const cr3 = ctx.view.getUint32(V86_OFFSETS.cr3, true);
    expect(cr3).toBe(PDPT);
    expect(pdptPage(ctx, cr3)).toBe(PDPT >>> 12);
    for (let i = 0; i < 4; i++) {
      const inRam = ctx.view.getUint32(ctx.ramOffset + PDPT + i * 8, true);
      expect(inRam & 1).toBe(1);
      expect(ctx.view.getUint32(V86_OFFSETS.pdpte + i * 8, true)).toBe(inRam);
      expect(ctx.view.getUint32(V86_OFFSETS.pdpte + i * 8 + 4, true)).toBe(0);
    }
  });

  it("translates every kind of mapping as v86 does, and names the table pages each walk reads", () => {
    const ctx = context(cpu);
    const cases: [linear: number, phys: number][] = [
      [0x7c00, 0x7000], // identity, 4 KiB pages
      [0xc000_0000 + 0x12_3456, WORK_PHYS + 0x12_3000], // alias A, first 2 MiB page
      [0xc020_1000, WORK_PHYS + 0x20_1000], // alias A, second 2 MiB page
      [0x4000_0000, WORK_PHYS], // alias B, first table
      [0x4020_1000, WORK_PHYS + 0x20_1000], // alias B, second table
      [0x403f_f000, WORK_PHYS + 0x3f_f000],
      [0x8000_0010, DATA_PHYS], // the data page
    ];
    for (const [linear, phys] of cases) {
      expect(translate(ctx, linear), `0x${linear.toString(16)}`).toBe(phys);
      cpu.full_clear_tlb();
      expect(((cpu.translate_address_system_read(linear) >>> 0) & ~0xfff) >>> 0, `v86 at 0x${linear.toString(16)}`).toBe(phys);
    }
    // Not mapped: the walk ends where v86 would raise #PF.
    expect(translate(ctx, 0x0040_0000)).toBeNull();
    expect(translate(ctx, 0xc040_0000)).toBeNull();
    expect(pagesForAccess(ctx, 0x4020_1000)).toEqual([PD1 >>> 12, PT1_SECOND >>> 12, (WORK_PHYS + 0x20_1000) >>> 12]);
    expect(pagesForAccess(ctx, 0xc020_1000)).toEqual([PD3 >>> 12, (WORK_PHYS + 0x20_1000) >>> 12]);
    expect(pagesForAccess(ctx, 0x8000_0000)).toEqual([PD2 >>> 12, PT2 >>> 12, DATA_PHYS >>> 12]);
  });

  it("the hook sees the program's walks through all three aliases", async () => {
    handle.setLazy(true);
    cpu.full_clear_tlb();
    const from = guest.serial.length;
    await guest.waitFor((t) => lines(t).size >= 1, 30_000, from);
    handle.setLazy(false);
    expect(walks.some((a) => a >= 0xc000_0000)).toBe(true);
    expect(walks.some((a) => a >= 0x4000_0000 && a < 0x8000_0000)).toBe(true);
    expect(walks.some((a) => a >= 0x8000_0000 && a < 0xc000_0000)).toBe(true);
  });

  it("restores lazily with unloaded RAM poisoned and prints the checksums the original printed", async () => {
    await guest.emulator.stop();
    const ramSize = cpu.memory_size[0];
    const ram = new Uint8Array(cpu.wasm_memory.buffer, cpu.mem8.byteOffset, ramSize).slice();
    const state = await LazyRamSession.saveWithoutRam(cpu, () => guest.emulator.save_state());
    // The original runs on from the same instant: its lines are the reference.
    const mark = guest.serial.length;
    await guest.emulator.run();

    const { wasm_fn, loaded } = lazyWasmFn(LAZY_WASM);
    const lazy = new NodeGuest({ wasm_fn, floppy: floppy(), boot: false });
    try {
      const lazyCpu = await lazy.cpu;
      const lazyHandle = await loaded;
      const faulted = new Set<number>();
      const session = new LazyRamSession(lazyCpu, lazyHandle, (page, dest) => {
        faulted.add(page);
        dest.set(ram.subarray(page << 12, (page + 1) << 12));
      }, { poison: true });
      await session.restoreLazily(() => lazy.emulator.restore_state(state));
      expect(lazyHandle.isLazy()).toBe(true);
      await lazy.emulator.run();
      const restored = lines(await lazy.waitFor((t) => lines(t).size >= 4, 60_000));
      const reference = lines(await guest.waitFor((t) => lines(t).size >= 5, 60_000, mark));
      expect(restored.size).toBeGreaterThanOrEqual(4);
      for (const [count, line] of restored) {
        expect(line, `count ${count}`).toMatch(/ ok$/);
        if (reference.has(count)) expect(line, `count ${count}`).toBe(reference.get(count));
      }
      expect([...restored.keys()].filter((c) => reference.has(c)).length).toBeGreaterThanOrEqual(3);
      // It came in page by page through the PAE walk: tables, the data page, the whole work area
      // (not the PDPT: its entries are CPU registers, restored with the state, until CR3 is written).
      for (const page of [PD1, PT1_SECOND, PD2, PT2, PD3, DATA_PHYS].map((a) => a >>> 12)) expect(faulted.has(page), `page 0x${page.toString(16)}`).toBe(true);
      for (let page = WORK_PHYS >>> 12; page < (WORK_PHYS + 0x40_0000) >>> 12; page++) expect(faulted.has(page)).toBe(true);
      expect(faulted.size).toBeLessThan(ramSize >>> 12);
    } finally {
      await lazy.destroy();
    }
  }, 120_000);
});
