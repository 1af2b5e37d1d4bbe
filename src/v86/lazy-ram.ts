// Lazy restore of guest RAM on one v86 instance that runs the instrumented wasm: RAM stays out
// of v86's state, restore marks every page missing, and pages are filled on first use by the
// page-walk hook (CPU accesses) and the JS guards (device DMA, physical helpers).
import type { GuardedCpu } from "./js-ram-guards";
import type { LazyWasmHandle } from "./instrumented-wasm";
import { currentWalkContext, PAGE_SHIFT, PAGE_SIZE, type WalkContext } from "./page-walker";
import { RamWatch, type ResidencySlot } from "./ram-watch";
import { ResidencyMap } from "./page-set";

/** The parts of v86's CPU object this module uses beyond the guarded RAM paths. */
export interface LazyCpu extends GuardedCpu {
  wasm_memory: WebAssembly.Memory;
  /** v86 wraps these in Proxies that build a typed array per access; read them once. */
  mem8: { byteOffset: number };
  memory_size: ArrayLike<number>;
  pack_memory(): unknown;
  unpack_memory(bitmap: unknown, packed: unknown): void;
  full_clear_tlb(): void;
  jit_clear_cache(): void;
}

/** Fills `dest` (exactly one 4 KiB page of guest RAM) synchronously. */
export type PageSource = (page: number, dest: Uint8Array) => void;

export interface LazyStats {
  /** Pages filled because something touched them (not counting eager or prefetch loads). */
  faults: number;
  /** The part of `faults` that came from JS paths (device DMA, physical helpers). */
  jsFaults: number;
  /** Pages filled by any means. */
  pagesLoaded: number;
}

export interface LazyRamSessionOptions {
  /** Pages to load during restore itself. Page 0 holds the real-mode IVT, read physically. */
  eagerPages?: readonly number[];
  /** Fill missing pages with 0xCC so a missed path shows up as garbage instead of stale data. */
  poison?: boolean;
  /** Backing for the residency bits (zeroed, ceil(pages/32)*4 bytes), e.g. shared with a loader. */
  residencyBuffer?: ArrayBufferLike;
  /** Every page a CPU page walk reads while lazy (see LazyImportOptions.touched). */
  onTouch?(page: number): void;
}

export class LazyRamSession {
  readonly stats: LazyStats = { faults: 0, jsFaults: 0, pagesLoaded: 0 };
  residency: ResidencyMap | null = null;
  #ctx: WalkContext | null = null;
  #slot: ResidencySlot | null = null;
  #active = false;
  #unguardPackMemory: (() => void) | null = null;

  constructor(
    private readonly cpu: LazyCpu,
    private readonly wasm: LazyWasmHandle,
    private readonly source: PageSource,
    private readonly options: LazyRamSessionOptions = {},
  ) {}

  get active(): boolean {
    return this.#active;
  }

  /** Wasm memory grows during boot; views must follow the current buffer. */
  context(): WalkContext {
    this.#ctx = currentWalkContext(this.cpu, this.#ctx);
    return this.#ctx;
  }

  /**
   * Runs `save` (which must call v86's save_state) with RAM left out of the state: the RAM
   * bitmap is empty and no pages are packed. The caller keeps RAM in its own store.
   */
  static async saveWithoutRam<T>(cpu: LazyCpu, save: () => Promise<T> | T): Promise<T> {
    const pageCount = cpu.memory_size[0] >>> PAGE_SHIFT;
    const hadOwn = Object.prototype.hasOwnProperty.call(cpu, "pack_memory");
    const previous = cpu.pack_memory;
    // Shapes v86's save expects from pack_memory: a Bitmap-like with get_buffer() and bytes.
    cpu.pack_memory = () => ({
      bitmap: { get_buffer: () => new ArrayBuffer(Math.ceil(pageCount / 8)) },
      packed_memory: new Uint8Array(0),
    });
    try {
      return await save();
    } finally {
      if (hadOwn) cpu.pack_memory = previous;
      else delete (cpu as Partial<LazyCpu>).pack_memory;
    }
  }

  /**
   * Runs `restore` (which must call v86's restore_state on a state saved without RAM) so that
   * RAM comes back lazily. Setting the flag inside unpack_memory makes it atomic with
   * set_state's own TLB and JIT-cache clear that follows it.
   */
  async restoreLazily<T>(restore: () => Promise<T> | T): Promise<T> {
    const cpu = this.cpu;
    const hadOwn = Object.prototype.hasOwnProperty.call(cpu, "unpack_memory");
    const previous = cpu.unpack_memory;
    cpu.unpack_memory = () => this.#beginLazy();
    try {
      // Awaited: a zstd-compressed state is decompressed before unpack_memory runs.
      return await restore();
    } finally {
      if (hadOwn) cpu.unpack_memory = previous;
      else delete (cpu as Partial<LazyCpu>).unpack_memory;
    }
  }

  #beginLazy(): void {
    const pageCount = this.cpu.memory_size[0] >>> PAGE_SHIFT;
    this.residency = new ResidencyMap(pageCount, this.options.residencyBuffer);
    this.stats.faults = 0;
    this.stats.jsFaults = 0;
    this.stats.pagesLoaded = 0;
    this.#ctx = null;
    if (this.options.poison) {
      const ctx = this.context();
      new Uint8Array(ctx.view.buffer, ctx.ramOffset, pageCount * PAGE_SIZE).fill(0xcc);
    }
    // Active before the eager loads so a source may provide() the other pages of their chunk.
    this.#active = true;
    for (const page of this.options.eagerPages ?? [0]) {
      this.options.onTouch?.(page);
      this.load(page);
    }
    this.#slot = {
      isResident: (page) => this.residency!.has(page),
      fault: (page) => this.#fault(page),
      ensureRange: (start, length) => this.ensureRange(start, length),
      ...(this.options.onTouch ? { touched: this.options.onTouch } : {}),
    };
    this.#watch().setResidency(this.#slot);
    this.#guardPackMemory();
  }

  #watch(): RamWatch {
    return RamWatch.of(this.cpu, this.wasm);
  }

  /** v86's own pack_memory reads RAM directly: a full save while pages are missing would store poison. */
  #guardPackMemory(): void {
    const cpu = this.cpu;
    const hadOwn = Object.prototype.hasOwnProperty.call(cpu, "pack_memory");
    const original = cpu.pack_memory;
    const guarded = (): unknown => {
      this.loadAll();
      return original.call(cpu);
    };
    cpu.pack_memory = guarded;
    this.#unguardPackMemory = () => {
      if (cpu.pack_memory !== guarded) return; // someone wrapped it since; leave theirs alone
      if (hadOwn) cpu.pack_memory = original;
      else delete (cpu as Partial<LazyCpu>).pack_memory;
    };
  }

  /** Loads every missing page (before a full save, or as the tail of a prefetch). */
  loadAll(): void {
    const map = this.residency;
    if (!map) return;
    for (const page of [...map.missing()]) this.load(page);
  }

  /** Loads one page if missing (prefetch and eager paths; not counted as a fault). */
  load(page: number): void {
    const map = this.residency;
    if (!map || page >= map.pageCount || map.has(page)) return;
    const ctx = this.context();
    this.source(page, new Uint8Array(ctx.view.buffer, ctx.ramOffset + page * PAGE_SIZE, PAGE_SIZE));
    map.add(page);
    this.stats.pagesLoaded++;
  }

  /**
   * Installs the restored contents of `page` if it is still missing (prefetch, or the other
   * pages of a chunk a fault brought in). A resident page is never overwritten: the guest may
   * have changed it since. Returns whether the page was installed.
   */
  provide(page: number, bytes: Uint8Array): boolean {
    const map = this.residency;
    if (!this.#active || !map || page >= map.pageCount || map.has(page)) return false;
    const ctx = this.context();
    new Uint8Array(ctx.view.buffer, ctx.ramOffset + page * PAGE_SIZE, PAGE_SIZE).set(bytes.subarray(0, PAGE_SIZE));
    map.add(page);
    this.stats.pagesLoaded++;
    return true;
  }

  /**
   * Drops lazy mode without completing it (a failed fault, or an eager restore replacing this
   * one): RAM is then partly garbage, so the caller must stop the guest or overwrite all RAM.
   */
  abort(): void {
    if (this.#active) this.#tearDown();
  }

  /** The hook and JS guards stop filling pages: the emulator runs as if lazy mode never was. */
  #tearDown(): void {
    // A newer session on this CPU may own the slot by now: leave it alone then.
    if (this.#watch().residency === this.#slot) this.#watch().setResidency(null);
    this.#slot = null;
    this.#unguardPackMemory?.();
    this.#unguardPackMemory = null;
    this.#active = false;
  }

  #fault(page: number): void {
    this.stats.faults++;
    this.load(page);
  }

  ensureRange(start: number, length: number): void {
    const map = this.residency;
    if (!map || length <= 0) return;
    const first = start >>> PAGE_SHIFT;
    const last = Math.min((start + length - 1) >>> PAGE_SHIFT, map.pageCount - 1);
    for (let page = first; page <= last; page++) {
      if (!map.has(page)) {
        this.stats.jsFaults++;
        // A touch for the working set, as the hook reports a page walk's: unrecorded, the CRNG
        // reseed's chunks (and page 0's, below) were read one fault at a time behind the
        // prefetch at every resume, ~25-30 ms each before the guest could run.
        this.options.onTouch?.(page);
        this.#fault(page);
      }
    }
  }

  /**
   * Once every page is resident, removes all lazy overhead: the hook flag goes off and the TLB
   * and JIT cache are cleared so nothing compiled or cached under the hook lingers.
   * Returns whether the session is finished.
   */
  finishIfComplete(): boolean {
    if (!this.#active) return true;
    if (!this.residency?.complete) return false;
    this.#tearDown();
    this.cpu.full_clear_tlb();
    this.cpu.jit_clear_cache();
    return true;
  }
}
