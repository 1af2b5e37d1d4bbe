// Mirrors v86 0.5.462's do_page_walk (src/rust/cpu/cpu.rs) closely enough to know which guest
// physical pages the walk and the access will touch, so they can be made resident before the
// real walk runs. It must follow v86's quirks rather than the Intel manual: v86 honours PDE.PS
// only when CR4.PSE is set, in PAE mode too, and only uses the low 32 bits of PAE entries.

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;

/** Byte offsets of v86 CPU state inside wasm memory (checked against the 0.5.462 wasm). */
export const V86_OFFSETS = {
  cr0: 580,
  cr3: 592,
  cr4: 596,
  /** Four u64 PAE PDPTEs, loaded by load_pdpte when CR3 is written in PAE mode. */
  pdpte: 968,
  memorySize: 812,
} as const;

const CR0_PG = 0x8000_0000;
const CR4_PSE = 1 << 4;
const CR4_PAE = 1 << 5;
const PRESENT = 1;
const PDE_PS = 1 << 7;
/** SeaBIOS's reset alias: v86 serves 0xFFF00000.. from low RAM through a JS mmap handler. */
const BIOS_ALIAS_BASE = 0xfff0_0000;

/** A view of v86's wasm memory. Rebuild it when wasm memory grows (the buffer is replaced). */
export interface WalkContext {
  view: DataView;
  /** Byte offset of guest physical address 0 in wasm memory (cpu.mem8.byteOffset). */
  ramOffset: number;
}

/** `previous` while it still views v86's wasm memory (which grows during boot), else a fresh context. */
export function currentWalkContext(cpu: { wasm_memory: WebAssembly.Memory; mem8: { byteOffset: number } }, previous: WalkContext | null): WalkContext {
  const buffer = cpu.wasm_memory.buffer;
  return previous && previous.view.buffer === buffer ? previous : { view: new DataView(buffer), ramOffset: cpu.mem8.byteOffset };
}

const u32 = (ctx: WalkContext, wasmAddr: number): number => ctx.view.getUint32(wasmAddr, true);

/** The CPU's addressing mode now: paging on (CR0.PG), and PAE (CR4.PAE) with it. */
export function pagingMode(ctx: WalkContext): { paging: boolean; pae: boolean } {
  const paging = (u32(ctx, V86_OFFSETS.cr0) & CR0_PG) !== 0;
  return { paging, pae: paging && (u32(ctx, V86_OFFSETS.cr4) & CR4_PAE) !== 0 };
}

export function memorySize(ctx: WalkContext): number {
  return u32(ctx, V86_OFFSETS.memorySize);
}

/** What a page is to a walk: a directory or table page it reads (and may set A/D bits in), or the page the access reaches. */
export type WalkRole = "table" | "target";

/**
 * Calls `touch(page, role)` for each guest physical page the walk for `addr` reads, in the order the
 * walk needs them, then for the target page. Entries are read only after `touch` returned, so a
 * `touch` that faults a page in makes the next level readable. Pages outside RAM are skipped
 * (they are MMIO and never need a fault). Stops early where v86 would raise #PF.
 * Returns the physical address of the target page, or null where the walk ends in #PF (or
 * in an entry outside RAM, which is not followed).
 */
export function walkPages(ctx: WalkContext, addr: number, touch: (page: number, role: WalkRole) => void): number | null {
  const linear = addr >>> 0;
  const cr0 = u32(ctx, V86_OFFSETS.cr0);
  const ramSize = memorySize(ctx);
  const visit = (phys: number, role: WalkRole = "table"): boolean => {
    let p = phys >>> 0;
    if (p >= BIOS_ALIAS_BASE) p &= 0xf_ffff;
    if (p >= ramSize) return false;
    touch(p >>> PAGE_SHIFT, role);
    return true;
  };
  const readPhys32 = (phys: number): number => u32(ctx, ctx.ramOffset + (phys >>> 0));

  const target = (phys: number): number => {
    visit(phys, "target");
    return phys >>> 0;
  };

  if ((cr0 & CR0_PG) === 0) return target(linear & ~0xfff);
  const cr4 = u32(ctx, V86_OFFSETS.cr4);
  const pae = (cr4 & CR4_PAE) !== 0;

  let pdeAddr: number;
  if (pae) {
    const pdpte = u32(ctx, V86_OFFSETS.pdpte + (linear >>> 30) * 8);
    if ((pdpte & PRESENT) === 0) return null;
    pdeAddr = ((pdpte & 0xffff_f000) >>> 0) + (((linear >>> 21) & 0x1ff) << 3);
  } else {
    pdeAddr = (u32(ctx, V86_OFFSETS.cr3) + ((linear >>> 22) << 2)) >>> 0;
  }
  // An entry outside RAM is read through MMIO handlers; nothing to fault, nothing sensible to
  // follow.
  if (!visit(pdeAddr)) return null;
  const pde = readPhys32(pdeAddr);
  if ((pde & PRESENT) === 0) return null;

  if ((pde & PDE_PS) !== 0 && (cr4 & CR4_PSE) !== 0) {
    const high = pae ? (pde & 0xffe0_0000) | (linear & 0x1f_f000) : (pde & 0xffc0_0000) | (linear & 0x3f_f000);
    return target(high);
  }

  const pteAddr = pae
    ? ((pde & 0xffff_f000) >>> 0) + (((linear >>> 12) & 0x1ff) << 3)
    : ((pde & 0xffff_f000) >>> 0) + (((linear >>> 12) & 0x3ff) << 2);
  if (!visit(pteAddr)) return null;
  const pte = readPhys32(pteAddr);
  if ((pte & PRESENT) === 0) return null;
  return target(pte & 0xffff_f000);
}

/** Where `addr` maps to (page-aligned physical address), or null if the access would #PF. */
export function translate(ctx: WalkContext, addr: number): number | null {
  return walkPages(ctx, addr, () => {});
}

/** The physical pages needed for an access to `addr`, in walk order, without duplicates. */
export function pagesForAccess(ctx: WalkContext, addr: number): number[] {
  const pages: number[] = [];
  walkPages(ctx, addr, (page) => {
    if (!pages.includes(page)) pages.push(page);
  });
  return pages;
}

/** The page load_pdpte(cr3) reads its four PDPTEs from (32 bytes at cr3), if inside RAM. */
export function pdptPage(ctx: WalkContext, cr3: number): number | null {
  const phys = cr3 >>> 0;
  return phys < memorySize(ctx) ? phys >>> PAGE_SHIFT : null;
}

export { ResidencyMap } from "./page-set";

/** Names the instrumented wasm uses (scripts/instrument-wasm.mjs writes the same ones). */
export const LAZY_HOOK = {
  flagExport: "snap86_lazy",
  pageWalkImport: "snap86_page_walk",
  loadPdpteImport: "snap86_load_pdpte",
} as const;

export interface WalkObservers {
  /** Current wasm memory view; called on every hook, so cache it and rebuild on growth. */
  context(): WalkContext;
  /** Lazy restore: whether `page` holds its restored contents yet. */
  isResident?(page: number): boolean;
  /** Lazy restore: makes `page` resident before returning (blocking: the CPU is inside a page walk). */
  fault?(page: number): void;
  /** Every page a walk reads, resident or not (to learn the working set); must be cheap. */
  touched?(page: number): void;
  /**
   * Dirty tracking: `page` may be written right after this returns. Called for the target of a
   * write walk, and for the directory and table pages of every walk (v86 sets their accessed and
   * dirty bits with physical writes of its own, after the hook).
   */
  written?(page: number): void;
}

export interface LazyImports {
  snap86_page_walk(addr: number, forWriting: number): void;
  snap86_load_pdpte(cr3: number): void;
}

/** The functions the instrumented wasm imports from `env`, serving every observer in one walk. */
export function makeWalkImports(opts: WalkObservers): LazyImports {
  const { touched, isResident, fault, written } = opts;
  const ensure = (page: number): void => {
    touched?.(page);
    if (fault && !isResident?.(page)) fault(page);
  };
  return {
    snap86_page_walk(addr: number, forWriting: number): void {
      walkPages(opts.context(), addr, (page, role) => {
        // Resident first, then recorded as written: a copy taken aside for a capture must hold
        // the page's contents, not poison. Even a read walk may set accessed bits in its tables.
        ensure(page);
        if (written && (role === "table" || forWriting !== 0)) written(page);
      });
    },
    snap86_load_pdpte(cr3: number): void {
      const page = pdptPage(opts.context(), cr3);
      if (page !== null) ensure(page);
    },
  };
}
