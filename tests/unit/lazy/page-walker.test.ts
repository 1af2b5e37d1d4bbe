import { describe, expect, it } from "vitest";
import { makeWalkImports, pagesForAccess, pdptPage, ResidencyMap, translate, V86_OFFSETS, type WalkContext } from "../../../src/v86/page-walker";

const RAM_OFFSET = 0x10000;
const RAM_SIZE = 16 << 20;
const CR0_PG_PE = 0x8000_0001;
const CR4_PSE = 0x10;
const CR4_PAE = 0x20;

/** A fake v86 wasm memory: CPU registers at v86's offsets, guest RAM at RAM_OFFSET. */
function makeMachine() {
  const buffer = new ArrayBuffer(RAM_OFFSET + RAM_SIZE);
  const view = new DataView(buffer);
  view.setUint32(V86_OFFSETS.memorySize, RAM_SIZE, true);
  const ctx: WalkContext = { view, ramOffset: RAM_OFFSET };
  return {
    ctx,
    regs(cr0: number, cr3: number, cr4: number) {
      view.setUint32(V86_OFFSETS.cr0, cr0, true);
      view.setUint32(V86_OFFSETS.cr3, cr3, true);
      view.setUint32(V86_OFFSETS.cr4, cr4, true);
    },
    pdpte(index: number, value: number) {
      view.setUint32(V86_OFFSETS.pdpte + index * 8, value, true);
      view.setUint32(V86_OFFSETS.pdpte + index * 8 + 4, 0, true);
    },
    phys32(addr: number, value: number) {
      view.setUint32(RAM_OFFSET + addr, value >>> 0, true);
    },
    phys64(addr: number, value: number) {
      view.setUint32(RAM_OFFSET + addr, value >>> 0, true);
      view.setUint32(RAM_OFFSET + addr + 4, 0, true);
    },
  };
}

describe("pagesForAccess", () => {
  it("maps linear to physical when paging is off", () => {
    const m = makeMachine();
    m.regs(1, 0x1000, 0);
    expect(pagesForAccess(m.ctx, 0x12345)).toEqual([0x12]);
    // cr3 is ignored without CR0.PG, even though it points at a valid-looking directory
    m.phys32(0x1000, 0x2001);
    expect(pagesForAccess(m.ctx, 0x345)).toEqual([0]);
  });

  it("walks 32-bit 4 KiB paging: directory, table, target", () => {
    const m = makeMachine();
    m.regs(CR0_PG_PE, 0x1000, 0);
    const addr = 0x0804_8123; // PD index 0x20, PT index 0x48
    m.phys32(0x1000 + 0x20 * 4, 0x2000 | 0x7);
    m.phys32(0x2000 + 0x48 * 4, 0x5000 | 0x5);
    expect(pagesForAccess(m.ctx, addr)).toEqual([0x1, 0x2, 0x5]);
    expect(translate(m.ctx, addr)).toBe(0x5000);
    expect(translate(m.ctx, addr + 0x1000)).toBeNull(); // PTE 0x49 is empty
  });

  it("stops at a non-present directory or table entry", () => {
    const m = makeMachine();
    m.regs(CR0_PG_PE, 0x1000, 0);
    expect(pagesForAccess(m.ctx, 0x0804_8123)).toEqual([0x1]);
    m.phys32(0x1000 + 0x20 * 4, 0x2000 | 0x7);
    expect(pagesForAccess(m.ctx, 0x0804_8123)).toEqual([0x1, 0x2]);
  });

  it("uses 4 MiB pages only with PDE.PS and CR4.PSE", () => {
    const m = makeMachine();
    const addr = 0xc012_3456; // PD index 0x300
    m.phys32(0x1000 + 0x300 * 4, 0x0040_0000 | 0x83);
    m.phys32(0x40_0000 + 0x123 * 4, 0x7000 | 1); // what v86 reads if PS is ignored
    m.regs(CR0_PG_PE, 0x1000, CR4_PSE);
    expect(pagesForAccess(m.ctx, addr)).toEqual([0x1, 0x523]);
    m.regs(CR0_PG_PE, 0x1000, 0);
    expect(pagesForAccess(m.ctx, addr)).toEqual([0x1, 0x400, 0x7]);
  });

  it("walks PAE 4 KiB pages through the PDPTE registers", () => {
    const m = makeMachine();
    m.regs(CR0_PG_PE, 0x3000, CR4_PAE | CR4_PSE);
    const addr = 0x4020_3456; // PDPT 1, PD 1, PT 3
    m.pdpte(1, 0x3000 | 1);
    m.phys64(0x3000 + 1 * 8, 0x4000 | 0x7);
    m.phys64(0x4000 + 3 * 8, 0x9000 | 0x7);
    expect(pagesForAccess(m.ctx, addr)).toEqual([0x3, 0x4, 0x9]);
    // a missing PDPTE ends the walk before any memory is read
    expect(pagesForAccess(m.ctx, 0x8000_0000)).toEqual([]);
  });

  it("walks PAE 2 MiB pages", () => {
    const m = makeMachine();
    m.regs(CR0_PG_PE, 0x3000, CR4_PAE | CR4_PSE);
    const addr = 0xc0a3_4567; // PDPT 3, PD 5
    m.pdpte(3, 0x6000 | 1);
    m.phys64(0x6000 + 5 * 8, 0x0060_0000 | 0x83);
    expect(pagesForAccess(m.ctx, addr)).toEqual([0x6, (0x60_0000 | 0x03_4000) >>> 12]);
  });

  it("ignores pages outside RAM and folds the BIOS alias to low memory", () => {
    const m = makeMachine();
    m.regs(CR0_PG_PE, 0x1000, 0);
    m.phys32(0x1000 + 0x3ff * 4, 0x2000 | 3); // last 4 MiB of the address space
    m.phys32(0x2000 + 0x3ee * 4, 0xfee0_0000 | 3); // local APIC
    m.phys32(0x2000 + 0x3ff * 4, 0xffff_0000 | 3); // SeaBIOS reset alias
    expect(pagesForAccess(m.ctx, 0xfffe_e000)).toEqual([0x1, 0x2]);
    expect(translate(m.ctx, 0xfffe_e000)).toBe(0xfee0_0000);
    expect(pagesForAccess(m.ctx, 0xffff_f000)).toEqual([0x1, 0x2, 0xf0]);
    m.regs(1, 0, 0);
    expect(pagesForAccess(m.ctx, RAM_SIZE + 0x1000)).toEqual([]);
  });

  it("finds the PDPT page for load_pdpte", () => {
    const m = makeMachine();
    expect(pdptPage(m.ctx, 0x0012_3020)).toBe(0x123);
    expect(pdptPage(m.ctx, RAM_SIZE)).toBeNull();
  });
});

describe("makeWalkImports (lazy fill)", () => {
  it("faults each level in before reading it", () => {
    const backing = makeMachine(); // the saved RAM
    backing.regs(CR0_PG_PE, 0x1000, 0);
    backing.phys32(0x1000 + 0x20 * 4, 0x2000 | 0x7);
    backing.phys32(0x2000 + 0x48 * 4, 0x5000 | 0x5);
    backing.phys32(0x5000 + 0x120, 0xdeadbeef);

    const live = makeMachine(); // RAM after a lazy restore: only registers are back
    live.regs(CR0_PG_PE, 0x1000, 0);
    const resident = new ResidencyMap(RAM_SIZE >>> 12);
    const faults: number[] = [];
    const src = new Uint8Array(backing.ctx.view.buffer, RAM_OFFSET);
    const dst = new Uint8Array(live.ctx.view.buffer, RAM_OFFSET);
    const imports = makeWalkImports({
      isResident: (page) => resident.has(page),
      fault: (page) => {
        faults.push(page);
        dst.set(src.subarray(page << 12, (page + 1) << 12), page << 12);
        resident.add(page);
      },
      context: () => live.ctx,
    });

    imports.snap86_page_walk(0x0804_8123, 0);
    // Without the directory being filled first, the walk would have stopped at page 1.
    expect(faults).toEqual([0x1, 0x2, 0x5]);
    expect(live.ctx.view.getUint32(RAM_OFFSET + 0x5120, true)).toBe(0xdeadbeef);
    imports.snap86_page_walk(0x0804_8123, 1);
    expect(faults).toHaveLength(3);
    imports.snap86_load_pdpte(0x7020);
    expect(faults).toEqual([0x1, 0x2, 0x5, 0x7]);
  });
});

describe("ResidencyMap", () => {
  it("tracks pages and completion", () => {
    const map = new ResidencyMap(40);
    expect(map.has(33)).toBe(false);
    expect(map.add(33)).toBe(true);
    expect(map.add(33)).toBe(false);
    expect(map.has(33)).toBe(true);
    expect(map.has(32)).toBe(false);
    expect(map.residentCount).toBe(1);
    for (let p = 0; p < 40; p++) map.add(p);
    expect(map.complete).toBe(true);
    expect([...map.missing()]).toEqual([]);
    expect(() => map.add(40)).toThrow(RangeError);
  });

  it("counts pages already set in a shared buffer", () => {
    const shared = new SharedArrayBuffer(8);
    new Uint32Array(shared)[0] = 0b1011;
    const map = new ResidencyMap(64, shared);
    expect(map.residentCount).toBe(3);
    expect([...map.missing()].slice(0, 3)).toEqual([2, 4, 5]);
  });
});
