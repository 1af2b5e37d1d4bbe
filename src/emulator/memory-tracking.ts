/**
 * What the emulator worker knows about guest RAM between checkpoints, from dirty-page tracking
 * (src/v86/dirty-pages.ts): the chunk list RAM had at the last instant it was known (a capture's
 * pause, a restore, a reset: the "base"), the pages written since, and the pages written since
 * the golden state. A capture then reads only the chunks written since its base, and a reset
 * copies back only the pages written since the golden state. Whenever RAM changes in a way
 * tracking did not see, the base is dropped and every page counts as written (full fallbacks).
 */
import type { CowSnapshot, DirtyPages, WrittenSince } from "../v86/dirty-pages";
import { PageSet } from "../v86/page-set";
import { PAGE_SIZE } from "../v86/page-walker";


export interface RamBase {
  /** The checkpoint whose RAM chunks these are. */
  id: string;
  chunks: readonly (string | null)[];
  chunkSize: number;
  /** Whether every chunk is known to be in the local store (false after a share link's lazy open). */
  stored: boolean;
}

/** What a capture reads, fixed at its pause. */
export interface CapturePlan {
  snapshot: CowSnapshot;
  /** RAM chunk indices to read and send, ascending. */
  chunks: number[];
  /** Hashes of the chunks not sent (null: none are kept, every chunk is sent). */
  base: (string | null)[] | null;
  /** The checkpoint `base` is the RAM of, when every chunk of it is in the local store. */
  baseId: string | null;
  chunkSize: number;
  /** Which RAM history this plan belongs to: `captured` ignores a plan that RAM moved on from. */
  epoch: number;
}

export class MemoryTracking {
  /** Bumped whenever RAM gets a new history (a restore, a reset, a pause). */
  #epoch = 0;
  readonly #sinceBase: WrittenSince;
  readonly #sinceGolden: WrittenSince;
  #base: RamBase | null = null;
  #goldenId: string | null = null;
  /** The golden state's RAM chunk list, once known: a restore of another checkpoint differs from it only where their chunks differ. */
  #golden: { chunks: readonly (string | null)[]; chunkSize: number } | null = null;

  /** Call with the emulator stopped (between ticks), before RAM holds anything a capture needs. */
  constructor(private readonly dirty: DirtyPages) {
    this.#sinceBase = dirty.track();
    this.#sinceGolden = dirty.track();
    this.#sinceGolden.markAll();
  }

  get base(): RamBase | null {
    return this.#base;
  }

  get pagesWrittenSinceBase(): number {
    return this.#sinceBase.pages.size;
  }

  /**
   * RAM now holds the checkpoint `id` whose RAM chunks are `chunks` (a restore, eager or lazy,
   * applied with the emulator stopped). A restore of the golden state starts its count afresh.
   */
  restored(id: string, chunks: readonly (string | null)[], chunkSize: number, stored: boolean): void {
    this.#epoch++;
    this.#base = { id, chunks: [...chunks], chunkSize, stored };
    this.#sinceBase.restart();
    this.#sinceGolden.restart();
    if (id === this.#goldenId) return;
    const golden = this.#golden;
    if (!golden || golden.chunkSize !== chunkSize || golden.chunks.length !== chunks.length) {
      this.#sinceGolden.markAll();
      return;
    }
    markDiffering(this.#sinceGolden.pages, chunks, golden.chunks, chunkSize);
  }

  /** RAM changed in a way tracking cannot account for (an aborted lazy restore left holes). */
  unknown(): void {
    this.#epoch++;
    this.#base = null;
    this.#sinceGolden.markAll();
  }

  /**
   * Pages where RAM differs from checkpoint `id` (whose RAM chunks are `chunks`), or null when
   * tracking cannot tell (copy all of RAM). Exact for the golden state when tracking counted from
   * it (a reset copies back these); otherwise, when RAM is a known base (the checkpoint last
   * captured or restored, a reload's resume), the pages written since the base plus the chunks
   * base and `id` do not share (an eager restore reads only these).
   */
  pagesDifferingFrom(id: string, chunks: readonly (string | null)[], chunkSize: number): PageSet | null {
    if (this.#goldenId === id) {
      const pages = this.#sinceGolden.pages;
      return pages.size === pages.pageCount ? null : pages;
    }
    const base = this.#base;
    if (!base || base.chunkSize !== chunkSize || base.chunks.length !== chunks.length) return null;
    const pages = this.#sinceBase.pages.copy();
    markDiffering(pages, base.chunks, chunks, chunkSize);
    return pages;
  }

  /** The reset to the golden state is applied (emulator stopped). */
  resetTo(goldenId: string, chunks: readonly (string | null)[], chunkSize: number): void {
    this.#goldenId = goldenId;
    this.#golden = { chunks: [...chunks], chunkSize };
    this.restored(goldenId, chunks, chunkSize, true);
  }

  /**
   * At a capture's pause (emulator stopped): protects the chunks to send (written since the base,
   * plus `alsoSend`) for copy-on-write, and restarts tracking from this instant.
   * `golden`: this capture is the golden state, so resets count from it.
   */
  pause(chunkSize: number, alsoSend: readonly number[], golden: boolean): CapturePlan {
    const pageCount = this.dirty.pageCount;
    const pagesPerChunk = chunkSize / PAGE_SIZE;
    const chunkCount = Math.ceil((pageCount * PAGE_SIZE) / chunkSize);
    const base = this.#base && this.#base.chunkSize === chunkSize && this.#base.chunks.length === chunkCount ? this.#base : null;
    // Run by run, not page by page: this is inside the pause, and its code is seldom warm.
    const send = new Uint8Array(chunkCount);
    if (!base) send.fill(1);
    else {
      for (const [first, end] of this.#sinceBase.pages.runs()) send.fill(1, Math.floor(first / pagesPerChunk), Math.floor((end - 1) / pagesPerChunk) + 1);
      for (const i of alsoSend) send[i] = 1;
    }
    const chunks: number[] = [];
    const protect = new PageSet(pageCount);
    for (let first = send.indexOf(1); first >= 0; first = send.indexOf(1, first)) {
      let end = send.indexOf(0, first);
      if (end < 0) end = chunkCount;
      for (let i = first; i < end; i++) chunks.push(i);
      protect.addRange(first * pagesPerChunk, Math.min(pageCount, end * pagesPerChunk));
      first = end;
    }
    const snapshot = this.dirty.snapshot(protect);
    this.#sinceBase.restart();
    if (golden) this.#sinceGolden.restart();
    // Until the capture is stored the new base is unknown: a failure leaves none.
    this.#base = null;
    return { snapshot, chunks, base: base ? [...base.chunks] : null, baseId: base?.stored ? base.id : null, chunkSize, epoch: ++this.#epoch };
  }

  /**
   * The capture paused with `plan` is stored: its chunks are the base from that instant on,
   * unless RAM got another history since (a restore or reset while it was written).
   */
  captured(plan: CapturePlan, id: string, chunks: readonly (string | null)[], golden: boolean): void {
    if (plan.epoch !== this.#epoch) return;
    this.#base = { id, chunks: [...chunks], chunkSize: plan.chunkSize, stored: true };
    if (golden) {
      this.#goldenId = id;
      this.#golden = { chunks: [...chunks], chunkSize: plan.chunkSize };
    }
  }

  /** The capture failed: nothing is known of RAM at its pause. */
  captureFailed(plan: CapturePlan, golden: boolean): void {
    if (plan.epoch !== this.#epoch) return;
    this.#base = null;
    if (golden) this.#sinceGolden.markAll();
  }

  close(): void {
    this.#sinceBase.close();
    this.#sinceGolden.close();
  }
}

/** Adds the pages of every chunk where `a` and `b` name different bytes (equal hashes are equal bytes). */
function markDiffering(pages: PageSet, a: readonly (string | null)[], b: readonly (string | null)[], chunkSize: number): void {
  const pagesPerChunk = chunkSize / PAGE_SIZE;
  a.forEach((hash, i) => {
    if (hash === b[i]) return;
    for (let p = i * pagesPerChunk; p < Math.min(pages.pageCount, (i + 1) * pagesPerChunk); p++) pages.add(p);
  });
}
