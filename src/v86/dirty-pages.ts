// Dirty-page tracking for one emulator, through the RAM watch (page walks + JS guards): which
// guest pages were written since an instant, and copy-on-write snapshots of pages a capture still
// has to read while the guest runs on.
//
// Why it sees every write: v86 builds a TLB entry read-only unless the walk that made it was for a
// write, paging on or off, so after a full TLB clear the first write to each page walks again
// with for_writing set, before the write happens. The walk's own accessed/dirty-bit writes to the
// directory and table pages are reported by the watch as writes too; JS writes (device DMA, the
// physical helpers) come through the guards. See docs/memory-tracking.md.
import { PAGE_SHIFT, PAGE_SIZE } from "./page-walker";
import { PageSet } from "./page-set";
import type { RamWatch } from "./ram-watch";

/** Pages written since the instant it was (re)started. */
export interface WrittenSince {
  readonly pages: PageSet;
  /** Empties the set and starts again from now. Only between ticks (emulator stopped). */
  restart(): void;
  /** Every page counts as written (RAM was replaced without tracking, e.g. an eager restore). */
  markAll(): void;
  close(): void;
}

export class DirtyPages {
  readonly #sets: PageSet[] = [];
  #snapshot: CowSnapshot | null = null;

  constructor(private readonly watch: RamWatch) {}

  get pageCount(): number {
    return this.watch.cpu.memory_size[0] >>> PAGE_SHIFT;
  }

  /** Starts a set of the pages written from now on. Only between ticks (emulator stopped). */
  track(): WrittenSince {
    const pages = new PageSet(this.pageCount);
    this.#sets.push(pages);
    this.#sync();
    this.watch.cpu.full_clear_tlb();
    return {
      pages,
      restart: () => {
        pages.clear();
        // Writable TLB entries would let the next write to their pages go unseen.
        this.watch.cpu.full_clear_tlb();
      },
      markAll: () => {
        for (let p = 0; p < pages.pageCount; p++) pages.add(p);
      },
      close: () => {
        const i = this.#sets.indexOf(pages);
        if (i >= 0) this.#sets.splice(i, 1);
        this.#sync();
      },
    };
  }

  /**
   * Protects `pages` as they are now: until `read` has taken a page, its first write copies it
   * aside first. Only between ticks, and one snapshot at a time.
   */
  snapshot(pages: PageSet): CowSnapshot {
    if (this.#snapshot) throw new Error("a memory snapshot is still being read");
    const ctx = () => this.watch.context();
    const snapshot = new CowSnapshot(pages, () => {
      const c = ctx();
      return new Uint8Array(c.view.buffer, c.ramOffset, this.pageCount << PAGE_SHIFT);
    }, () => {
      if (this.#snapshot === snapshot) this.#snapshot = null;
      this.#sync();
    });
    this.#snapshot = snapshot;
    this.#sync();
    // Pages already writable in the TLB must walk again before their next write.
    this.watch.cpu.full_clear_tlb();
    return snapshot;
  }

  /** The hook is on only while something listens: tracking costs nothing when unused. */
  #sync(): void {
    const sets = this.#sets;
    const snapshot = this.#snapshot;
    if (sets.length === 0 && !snapshot) {
      this.watch.setWritten(null);
      return;
    }
    this.watch.setWritten((page) => {
      for (let i = 0; i < sets.length; i++) sets[i].add(page);
      snapshot?.beforeWrite(page);
    });
  }
}

/**
 * The contents of a set of pages at one instant, read while the guest runs: a page not yet read
 * is copied aside on its first write, otherwise read from running RAM. Staged copies exist only
 * for pages written during the read, and are dropped once read.
 */
export class CowSnapshot {
  readonly #pending: PageSet;
  readonly #staged = new Map<number, Uint8Array>();
  #closed = false;
  /** Pages copied aside so far (the capture's extra memory is this many pages at most). */
  stagedTotal = 0;
  stagedPeak = 0;

  constructor(
    pages: PageSet,
    private readonly ram: () => Uint8Array,
    private readonly onClose: () => void,
  ) {
    this.#pending = pages.copy();
  }

  get pending(): number {
    return this.#pending.size;
  }

  /** Pages held aside right now. */
  get staged(): number {
    return this.#staged.size;
  }

  beforeWrite(page: number): void {
    if (!this.#pending.has(page) || this.#staged.has(page)) return;
    const start = page << PAGE_SHIFT;
    this.#staged.set(page, this.ram().slice(start, start + PAGE_SIZE));
    this.stagedTotal++;
    if (this.#staged.size > this.stagedPeak) this.stagedPeak = this.#staged.size;
  }

  /**
   * Copies pages [first, first + count) as they were at the snapshot into `dest` (count pages
   * long); those pages stop being protected. Pages outside the snapshot are copied as they are now.
   */
  read(first: number, count: number, dest: Uint8Array): void {
    if (this.#closed) throw new Error("the memory snapshot is closed");
    const ram = this.ram();
    for (let i = 0; i < count; i++) {
      const page = first + i;
      const staged = this.#staged.get(page);
      const start = page << PAGE_SHIFT;
      if (staged) {
        dest.set(staged, i << PAGE_SHIFT);
        this.#staged.delete(page);
      } else {
        dest.set(ram.subarray(start, start + PAGE_SIZE), i << PAGE_SHIFT);
      }
      this.#pending.delete(page);
    }
  }

  /** Ends protection (all read, or the capture was abandoned) and frees staged copies. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#staged.clear();
    this.#pending.clear();
    this.onClose();
  }
}
