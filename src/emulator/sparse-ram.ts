/**
 * A RAM image that holds only its non-zero chunks: what the golden state keeps in memory for
 * resets. A guest's RAM is mostly zero (init_on_free=1), so a 1 GiB guest's golden image costs
 * tens of MiB, not 1 GiB. Resets copy back the pages written since the golden state from it.
 */
import { isZero } from "../checkpoint/chunks";
import { PAGE_SIZE } from "../v86/page-walker";

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

  /** Writes the image's page `page` into `ram` at the same place. */
  copyPage(ram: Uint8Array, page: number): void {
    const start = page * PAGE_SIZE;
    const index = Math.floor(start / this.chunkSize);
    const chunk = this.#chunks.get(index);
    const dest = ram.subarray(start, start + PAGE_SIZE);
    if (!chunk) dest.fill(0);
    else dest.set(chunk.subarray(start - index * this.chunkSize, start - index * this.chunkSize + PAGE_SIZE));
  }

  /** Writes the whole image into `ram` (zeros included). */
  copyAll(ram: Uint8Array): void {
    ram.subarray(0, this.length).fill(0);
    for (const [index, chunk] of this.#chunks) ram.set(chunk, index * this.chunkSize);
  }
}
