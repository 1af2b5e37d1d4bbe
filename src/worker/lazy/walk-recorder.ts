// The working set of a running guest, learned from its page walks (REAP's "record" half, done
// before the checkpoint exists): while no lazy restore owns the page-walk hook, the hook stays
// on with every page resident, and each walk stamps the RAM chunks it reads (directory, table,
// target) with the time. The TLB is flushed every few seconds so pages in steady use are walked
// again. At capture, the chunks stamped in the last seconds are the ones a restore will want
// first: even the first lazy restore of a fresh checkpoint (or a share of it) prefetches them
// first instead of faulting on them one by one.
import type { LazyWasmHandle } from "./load-lazy-wasm";
import { currentWalkContext, walkPages, type WalkContext } from "./page-walker";

/** How often the TLB is flushed so active pages are walked (and stamped) again. */
export const FLUSH_INTERVAL_MS = 1000;
/** Chunks walked this long before a capture count as its working set. */
export const HOT_WINDOW_MS = 1500;
/** At most this many chunks (the most recent) make the working set: 32 MiB of 32 KiB chunks. */
const MAX_HOT_CHUNKS = 1024;

export interface RecorderCpu {
  wasm_memory: WebAssembly.Memory;
  mem8: { byteOffset: number };
  memory_size: ArrayLike<number>;
  full_clear_tlb(): void;
}

export class WalkRecorder {
  #lastWalk = new Float64Array(0);
  #timer: ReturnType<typeof setInterval> | undefined;
  #ctx: WalkContext | null = null;
  #armed = false;

  constructor(
    private readonly cpu: RecorderCpu,
    private readonly wasm: LazyWasmHandle,
    private readonly chunkSize: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get armed(): boolean {
    return this.#armed;
  }

  /** Takes the hook (only while no lazy restore has it) and starts stamping. */
  arm(): void {
    if (this.#armed) return;
    const chunks = Math.ceil(this.cpu.memory_size[0] / this.chunkSize);
    if (this.#lastWalk.length !== chunks) this.#lastWalk = new Float64Array(chunks);
    const shift = Math.log2(this.chunkSize);
    const stamp = (page: number): void => {
      this.#lastWalk[(page << 12) >>> shift] = this.now();
    };
    this.wasm.setHooks({
      snap86_page_walk: (addr) => void walkPages(this.#context(), addr, stamp),
      snap86_load_pdpte: () => undefined,
    });
    this.wasm.setLazy(true);
    this.cpu.full_clear_tlb();
    this.#timer = setInterval(() => this.cpu.full_clear_tlb(), FLUSH_INTERVAL_MS);
    this.#armed = true;
  }

  /** Gives the hook back (a lazy restore is about to take it, or the machine goes away). */
  disarm(): void {
    if (!this.#armed) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.wasm.setLazy(false);
    this.wasm.setHooks(null);
    this.#armed = false;
  }

  /** Chunk indices walked within `windowMs`, most recent first (at most MAX_HOT_CHUNKS). */
  hotChunks(windowMs: number = HOT_WINDOW_MS): number[] {
    const since = this.now() - windowMs;
    const hot: number[] = [];
    this.#lastWalk.forEach((t, i) => {
      if (t > 0 && t >= since) hot.push(i);
    });
    return hot.sort((a, b) => this.#lastWalk[b] - this.#lastWalk[a]).slice(0, MAX_HOT_CHUNKS);
  }

  #context(): WalkContext {
    this.#ctx = currentWalkContext(this.cpu, this.#ctx);
    return this.#ctx;
  }
}
