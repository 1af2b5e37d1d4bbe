// The working set of a running guest, learned from its page walks (REAP's "record" half, done
// before the checkpoint exists): while no lazy restore owns the page-walk hook, the hook stays
// on with every page resident, and each walk stamps the RAM pages it reads (directory, table,
// target) with the time. The TLB is flushed every few seconds so pages in steady use are walked
// again. At capture, the pages stamped in the last seconds are the ones a restore will want
// first: even the first lazy restore of a fresh checkpoint prefetches their chunks first, and a
// share of it carries exactly those pages in its pack. Pages, not chunks: a guest touches about
// 2 of the 8 pages of a chunk it needs, so a page-level set is a quarter of the bytes.
import type { LazyWasmHandle } from "./instrumented-wasm";
import { PAGE_SIZE } from "./page-walker";
import { RamWatch, type WatchedCpu } from "./ram-watch";

/** How often the TLB is flushed so active pages are walked (and stamped) again. */
export const FLUSH_INTERVAL_MS = 1000;
/** Pages walked this long before a capture count as its working set. */
export const HOT_WINDOW_MS = 1500;
/** At most this many pages (the most recent) make the working set: 16 MiB. */
export const MAX_HOT_PAGES = 4096;

export type RecorderCpu = WatchedCpu;

export class WalkRecorder {
  #lastWalk = new Float64Array(0);
  #timer: ReturnType<typeof setInterval> | undefined;
  #armed = false;

  constructor(
    private readonly cpu: RecorderCpu,
    private readonly wasm: LazyWasmHandle,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get armed(): boolean {
    return this.#armed;
  }

  /** Starts stamping afresh (the RAM watch shares the hook with a lazy restore and dirty tracking). */
  arm(): void {
    if (this.#armed) return;
    const pages = Math.ceil(this.cpu.memory_size[0] / PAGE_SIZE);
    if (this.#lastWalk.length !== pages) this.#lastWalk = new Float64Array(pages);
    // Stamps from before a restore describe another guest state.
    this.forget();
    const stamp = (page: number): void => {
      this.#lastWalk[page] = this.now();
    };
    RamWatch.of(this.cpu, this.wasm).setStamp(stamp);
    this.cpu.full_clear_tlb();
    this.#timer = setInterval(() => this.cpu.full_clear_tlb(), FLUSH_INTERVAL_MS);
    this.#armed = true;
  }

  /** Stops stamping (a lazy restore records its own touches, or the machine goes away). */
  disarm(): void {
    if (!this.#armed) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    RamWatch.of(this.cpu, this.wasm).setStamp(null);
    this.#armed = false;
  }

  /** Counts `pages` as walked now (pages known to be in use from elsewhere, see LazySessions). */
  stampNow(pages: readonly number[]): void {
    if (!this.#armed) return;
    const t = this.now();
    // A hair apart, so hotPages() keeps their order (it lists the latest first).
    pages.forEach((page, k) => {
      if (page < this.#lastWalk.length) this.#lastWalk[page] = t - k * 1e-6;
    });
  }

  /** RAM was replaced (a restore or a reset): what was walked before says nothing about it. */
  forget(): void {
    this.#lastWalk.fill(0);
  }

  /** Pages walked within `windowMs`, most recent first (at most MAX_HOT_PAGES). */
  hotPages(windowMs: number = HOT_WINDOW_MS): number[] {
    const since = this.now() - windowMs;
    const hot: number[] = [];
    this.#lastWalk.forEach((t, i) => {
      if (t > 0 && t >= since) hot.push(i);
    });
    return hot.sort((a, b) => this.#lastWalk[b] - this.#lastWalk[a]).slice(0, MAX_HOT_PAGES);
  }
}
