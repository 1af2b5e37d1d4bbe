// The one owner of the instrumented wasm's page-walk hook and of the JS guards on guest RAM for
// one emulator. Three users share them and must not take them from each other: a lazy restore
// (pages filled on first touch), dirty-page tracking (first write to a page after a checkpoint)
// and the working-set recorder (pages walked lately). Each sets its own slot; the hook is on while
// any slot is set, and one walk serves them all in the order they need: fill, record, stamp.
import { installRamGuards, type GuardedCpu, type RamGuards } from "./js-ram-guards";
import type { LazyWasmHandle } from "./instrumented-wasm";
import { currentWalkContext, makeWalkImports, PAGE_SHIFT, type WalkContext } from "./page-walker";

export interface WatchedCpu extends GuardedCpu {
  wasm_memory: WebAssembly.Memory;
  mem8: { byteOffset: number };
  memory_size: ArrayLike<number>;
  full_clear_tlb(): void;
}

/** A lazy restore's side: which pages hold their contents, and filling one (blocking). */
export interface ResidencySlot {
  isResident(page: number): boolean;
  fault(page: number): void;
  /** JS access to [start, start+length): fill what is missing. */
  ensureRange(start: number, length: number): void;
  /** Every page a walk reads while lazy (the restore's own working-set record). */
  touched?(page: number): void;
}

/** Dirty tracking's side: `page` is about to be written (by the CPU or by JS). */
export type WriteSlot = (page: number) => void;

/** The recorder's side: `page` was walked now. */
export type StampSlot = (page: number) => void;

const watches = new WeakMap<object, RamWatch>();

export class RamWatch {
  #residency: ResidencySlot | null = null;
  #written: WriteSlot | null = null;
  #stamp: StampSlot | null = null;
  #guards: RamGuards | null = null;
  #ctx: WalkContext | null = null;

  private constructor(
    readonly cpu: WatchedCpu,
    private readonly wasm: LazyWasmHandle,
  ) {}

  /**
   * The watch of this CPU. A new wasm handle (a new V86 instance reuses nothing) gets a new
   * watch; the same CPU with the same handle always gets the same one.
   */
  static of(cpu: WatchedCpu, wasm: LazyWasmHandle): RamWatch {
    let watch = watches.get(cpu);
    if (!watch || watch.wasm !== wasm) {
      watch = new RamWatch(cpu, wasm);
      watches.set(cpu, watch);
    }
    return watch;
  }

  /** Wasm memory grows during boot: views must follow the current buffer. */
  context(): WalkContext {
    this.#ctx = currentWalkContext(this.cpu, this.#ctx);
    return this.#ctx;
  }

  get residency(): ResidencySlot | null {
    return this.#residency;
  }

  setResidency(slot: ResidencySlot | null): void {
    this.#residency = slot;
    this.#update();
  }

  setWritten(slot: WriteSlot | null): void {
    this.#written = slot;
    this.#update();
  }

  setStamp(slot: StampSlot | null): void {
    this.#stamp = slot;
    this.#update();
  }

  #update(): void {
    const residency = this.#residency;
    const written = this.#written;
    const stamp = this.#stamp;
    const touched = residency?.touched && stamp ? (page: number) => (residency.touched!(page), stamp(page)) : (residency?.touched ?? stamp ?? undefined);
    const any = residency !== null || written !== null || stamp !== null;
    this.wasm.setHooks(
      any
        ? makeWalkImports({
            context: () => this.context(),
            ...(residency ? { isResident: (p: number) => residency.isResident(p), fault: (p: number) => residency.fault(p) } : {}),
            ...(touched ? { touched } : {}),
            ...(written ? { written } : {}),
          })
        : null,
    );
    this.wasm.setLazy(any);
    // JS paths do not walk: they need guards only for filling and for recording writes.
    const needGuards = residency !== null || written !== null;
    if (needGuards && !this.#guards) {
      this.#guards = installRamGuards(this.cpu, {
        ensure: (start, length) => this.#residency?.ensureRange(start, length),
        written: (start, length) => this.#writtenRange(start, length),
      });
    } else if (!needGuards && this.#guards) {
      this.#guards.uninstall();
      this.#guards = null;
    }
  }

  #writtenRange(start: number, length: number): void {
    const written = this.#written;
    if (!written || length <= 0) return;
    const pages = this.cpu.memory_size[0] >>> PAGE_SHIFT;
    const last = Math.min((start + length - 1) >>> PAGE_SHIFT, pages - 1);
    for (let page = start >>> PAGE_SHIFT; page <= last; page++) written(page);
  }
}
