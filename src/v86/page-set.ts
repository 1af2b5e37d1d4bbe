/** A set of 4 KiB guest pages as one bit each, with a count (cheap enough to test on every page walk). */
export class PageSet {
  readonly pageCount: number;
  readonly bits: Uint32Array;
  #count = 0;

  constructor(pageCount: number, buffer?: ArrayBufferLike) {
    this.pageCount = pageCount;
    const words = Math.ceil(pageCount / 32);
    this.bits = buffer ? new Uint32Array(buffer, 0, words) : new Uint32Array(words);
    if (buffer) for (const word of this.bits) this.#count += popcount(word);
  }

  copy(): PageSet {
    const out = new PageSet(this.pageCount);
    out.bits.set(this.bits);
    out.#count = this.#count;
    return out;
  }

  has(page: number): boolean {
    return (this.bits[page >>> 5] & (1 << (page & 31))) !== 0;
  }

  /** Adds a page; returns false if it was there already. */
  add(page: number): boolean {
    if (page < 0 || page >= this.pageCount) throw new RangeError(`page ${page} outside RAM`);
    const mask = 1 << (page & 31);
    const word = this.bits[page >>> 5];
    if ((word & mask) !== 0) return false;
    this.bits[page >>> 5] = word | mask;
    this.#count++;
    return true;
  }

  /** Adds pages [first, end) a word at a time (a capture's pause protects whole chunks). */
  addRange(first: number, end: number): void {
    if (first < 0 || end > this.pageCount) throw new RangeError(`pages ${first}..${end} outside RAM`);
    const bits = this.bits;
    for (let page = first; page < end; ) {
      const w = page >>> 5;
      const low = page & 31;
      const high = Math.min(32, low + (end - page));
      const mask = high - low === 32 ? 0xffff_ffff : (((1 << (high - low)) - 1) << low) >>> 0;
      const before = bits[w];
      bits[w] = before | mask;
      this.#count += popcount((mask & ~before) >>> 0);
      page += high - low;
    }
  }

  /** Removes a page; returns false if it was not there. */
  delete(page: number): boolean {
    const mask = 1 << (page & 31);
    const word = this.bits[page >>> 5];
    if ((word & mask) === 0) return false;
    this.bits[page >>> 5] = word & ~mask;
    this.#count--;
    return true;
  }

  clear(): void {
    this.bits.fill(0);
    this.#count = 0;
  }

  get size(): number {
    return this.#count;
  }

  /**
   * Runs of consecutive members as [first, end), lowest first, a word at a time: empty and full
   * words cost one step each, so listing what a reset copies back or a capture reads stays cheap
   * even before the JIT has warmed up to it.
   */
  *runs(): Generator<[number, number]> {
    const bits = this.bits;
    let start = -1;
    for (let w = 0; w < bits.length; w++) {
      const word = bits[w];
      if (word === 0 || word === 0xffff_ffff) {
        if (word === 0 && start >= 0) {
          yield [start, w << 5];
          start = -1;
        } else if (word !== 0 && start < 0) start = w << 5;
        continue;
      }
      for (let b = 0; b < 32; b++) {
        const member = (word & (1 << b)) !== 0;
        if (member && start < 0) start = (w << 5) + b;
        else if (!member && start >= 0) {
          yield [start, (w << 5) + b];
          start = -1;
        }
      }
    }
    if (start >= 0) yield [start, Math.min(bits.length << 5, this.pageCount)];
  }

  /** Members, lowest first; skips empty words, so a sparse set of a large RAM is cheap to list. */
  *members(): Generator<number> {
    const bits = this.bits;
    for (let w = 0; w < bits.length; w++) {
      let word = bits[w];
      while (word !== 0) {
        const low = word & -word;
        yield (w << 5) + (31 - Math.clz32(low));
        word ^= low;
      }
    }
  }
}

/**
 * One bit per 4 KiB guest page: set once the page holds its restored contents. The backing
 * buffer may be a SharedArrayBuffer so a loader worker can see what is already resident.
 */
export class ResidencyMap extends PageSet {
  get residentCount(): number {
    return this.size;
  }

  get complete(): boolean {
    return this.size === this.pageCount;
  }

  /** Pages not yet resident, lowest first (for background prefetch). */
  *missing(): Generator<number> {
    for (let page = 0; page < this.pageCount; page++) if (!this.has(page)) yield page;
  }
}

/** Set bits of a 32-bit word. */
export function popcount(x: number): number {
  let v = x - ((x >>> 1) & 0x5555_5555);
  v = (v & 0x3333_3333) + ((v >>> 2) & 0x3333_3333);
  return (((v + (v >>> 4)) & 0x0f0f_0f0f) * 0x0101_0101) >>> 24;
}
