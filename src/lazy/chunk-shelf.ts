// Decoded RAM chunks the loader has read, in shared memory the emulator worker reads without
// asking. A fault is answered inside a synchronous wasm import: through the fault channel even a
// chunk the loader holds decoded costs two thread wake-ups (the loader's, then the emulator's),
// measured at 2-5 ms each on two busy cores, about half of a reload's first ~50 faults. The
// "chunk" messages that install prefetched chunks cannot help there: the emulator worker's event
// loop is inside the guest while it faults. From the shelf such a fault is a 32 KiB copy.
//
// A ring of slots. Each slot has a seqlock (odd while it is written), the chunk it holds and that
// chunk's length; `slots[chunk]` is the chunk's slot + 1 (0: not shelved). The writer (loader)
// reuses the oldest slot; a reader that raced with a rewrite sees the version change and asks the
// loader instead, so a torn copy is never used.
import type { ShelfBuffers } from "../protocol/ram-loader";

/** Int32 words per slot in `meta`: version, chunk index, byte length. */
const META_WORDS = 3;
/** 8 MiB of 32 KiB chunks: the first working-set batches a reload faults on. */
export const SHELF_SLOTS = 256;

export function createShelf(chunkSize: number, chunks: number, slots = SHELF_SLOTS): ShelfBuffers {
  const meta = new SharedArrayBuffer(slots * META_WORDS * 4);
  const words = new Int32Array(meta);
  for (let slot = 0; slot < slots; slot++) words[slot * META_WORDS + 1] = -1; // holds no chunk
  return { data: new SharedArrayBuffer(slots * chunkSize), meta, slots: new SharedArrayBuffer(chunks * 4), chunkSize };
}

/** The loader's side: puts every chunk it decoded on the shelf. */
export class ShelfWriter {
  readonly #data: Uint8Array;
  readonly #meta: Int32Array;
  readonly #slots: Int32Array;
  readonly #count: number;
  #next = 0;

  constructor(private readonly shelf: ShelfBuffers) {
    this.#data = new Uint8Array(shelf.data);
    this.#meta = new Int32Array(shelf.meta);
    this.#slots = new Int32Array(shelf.slots);
    this.#count = this.#meta.length / META_WORDS;
  }

  put(index: number, bytes: Uint8Array): void {
    if (this.#count === 0 || index < 0 || index >= this.#slots.length || bytes.byteLength > this.shelf.chunkSize) return;
    if (Atomics.load(this.#slots, index) !== 0) return; // shelved already (same content: content-addressed)
    const slot = this.#next;
    this.#next = (slot + 1) % this.#count;
    const m = slot * META_WORDS;
    Atomics.add(this.#meta, m, 1); // odd: being written
    const previous = Atomics.load(this.#meta, m + 1);
    if (previous >= 0) Atomics.compareExchange(this.#slots, previous, slot + 1, 0);
    Atomics.store(this.#meta, m + 1, index);
    Atomics.store(this.#meta, m + 2, bytes.byteLength);
    this.#data.set(bytes, slot * this.shelf.chunkSize);
    Atomics.add(this.#meta, m, 1); // even: complete
    Atomics.store(this.#slots, index, slot + 1);
  }
}

/** The emulator worker's side: a copy of chunk `index` if it is shelved and was not being rewritten. */
export class ShelfReader {
  readonly #data: Uint8Array;
  readonly #meta: Int32Array;
  readonly #slots: Int32Array;

  constructor(private readonly shelf: ShelfBuffers) {
    this.#data = new Uint8Array(shelf.data);
    this.#meta = new Int32Array(shelf.meta);
    this.#slots = new Int32Array(shelf.slots);
  }

  take(index: number): Uint8Array | null {
    if (index < 0 || index >= this.#slots.length) return null;
    const slot = Atomics.load(this.#slots, index) - 1;
    if (slot < 0) return null;
    const m = slot * META_WORDS;
    const version = Atomics.load(this.#meta, m);
    if (version % 2 !== 0 || Atomics.load(this.#meta, m + 1) !== index) return null;
    const start = slot * this.shelf.chunkSize;
    const copy = this.#data.slice(start, start + Atomics.load(this.#meta, m + 2));
    return Atomics.load(this.#meta, m) === version ? copy : null;
  }
}
