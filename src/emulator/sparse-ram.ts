/**
 * A RAM image that holds only its non-zero chunks: what the golden state keeps in memory for
 * resets. A guest's RAM is mostly zero (init_on_free=1), so a 1 GiB guest's golden image costs
 * tens of MiB, not 1 GiB. Resets copy back the pages written since the golden state from it.
 */
import { isZero } from "../checkpoint/chunks";
import { PAGE_SIZE } from "../v86/page-walker";
import type { PageSet } from "../v86/page-set";

export class SparseRam {
  readonly #chunks = new Map<number, Uint8Array>();
  #bytes = 0;

  constructor(
    readonly length: number,
    readonly chunkSize: number,
  ) {}

  /** From a full RAM copy (a golden state loaded from storage). */
  static fromFull(ram: Uint8Array, chunkSize: number): SparseRam {
    const sparse = new SparseRam(ram.byteLength, chunkSize);
    for (let i = 0, off = 0; off < ram.byteLength; i++, off += chunkSize) sparse.set(i, ram.subarray(off, Math.min(off + chunkSize, ram.byteLength)));
    return sparse;
  }

  /** Keeps a copy of chunk `index` unless it is all zero. */
  set(index: number, bytes: Uint8Array): void {
    const old = this.#chunks.get(index);
    if (old) this.#bytes -= old.byteLength;
    this.#chunks.delete(index);
    if (isZero(bytes)) return;
    this.#chunks.set(index, bytes.slice());
    this.#bytes += bytes.byteLength;
  }

  /** Chunk `index`, or undefined where it is zero. A view: copy before keeping. */
  chunk(index: number): Uint8Array | undefined {
    return this.#chunks.get(index);
  }

  /** Memory held (the golden image's share of the memory budget). */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Writes the image's pages in `pages` into `ram`: each run of consecutive pages as one copy (or
   * fill) per chunk it covers, not one per page (a reset after a file write copies back long runs).
   */
  copyPages(ram: Uint8Array, pages: PageSet): void {
    for (const [first, end] of pages.runs()) this.#copyRange(ram, first * PAGE_SIZE, end * PAGE_SIZE);
  }

  #copyRange(ram: Uint8Array, from: number, to: number): void {
    for (let at = from; at < to; ) {
      const index = Math.floor(at / this.chunkSize);
      const chunkStart = index * this.chunkSize;
      const stop = Math.min(to, chunkStart + this.chunkSize);
      const chunk = this.#chunks.get(index);
      if (!chunk) ram.fill(0, at, stop);
      else ram.set(chunk.subarray(at - chunkStart, stop - chunkStart), at);
      at = stop;
    }
  }

  /** Writes the whole image into `ram` (zeros included). */
  copyAll(ram: Uint8Array): void {
    ram.subarray(0, this.length).fill(0);
    for (const [index, chunk] of this.#chunks) ram.set(chunk, index * this.chunkSize);
  }
}
