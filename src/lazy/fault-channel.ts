// The userfaultfd-like link between the emulator worker (which is inside a synchronous wasm
// import when it needs a page, so it can only block) and the loader worker (which has an event
// loop free for IndexedDB or network reads). One request at a time: the emulator writes the
// chunk index and the page it needs, flips STATE to REQUESTED and sleeps in Atomics.wait; the
// loader decodes and verifies the chunk into the shared staging slot (or only some of its pages,
// which it names in a mask) and flips STATE to DONE (or ERROR).
import type { PartialChunk } from "./chunk-source";
import type { FaultBuffers } from "../protocol/ram-loader";
import { Snap86Error } from "../protocol/errors";
import { createShelf } from "./chunk-shelf";

/** Int32 slots of the control SharedArrayBuffer. */
export const CONTROL = {
  state: 0,
  chunk: 1,
  /** Bytes of the chunk in the staging slot (the last chunk of RAM may be short). */
  length: 2,
  /** Bytes of the UTF-8 error message in the error slot. */
  errorLength: 3,
  /** Prefetched chunks the emulator worker has consumed (flow control for the loader). */
  consumed: 4,
  /** Set by the emulator worker when the session ends: the loader drops it. */
  closed: 5,
  /** The page the emulator needs (within `chunk`). */
  page: 6,
  /** Bit k set: page k of the chunk is in the staging slot (all bits for a whole chunk). */
  pages: 7,
} as const;
const CONTROL_WORDS = 8;
const ERROR_BYTES = 1024;

export const STATE = { idle: 0, requested: 1, done: 2, error: 3 } as const;

export type { FaultBuffers };

/** `chunks`: RAM's chunk count, for a shelf of decoded chunks (none when 0). */
export function createFaultBuffers(chunkSize: number, chunks = 0): FaultBuffers {
  return {
    control: new SharedArrayBuffer(CONTROL_WORDS * 4),
    staging: new SharedArrayBuffer(chunkSize),
    error: new SharedArrayBuffer(ERROR_BYTES),
    ...(chunks > 0 ? { shelf: createShelf(chunkSize, chunks) } : {}),
  };
}

/** A chunk could not be made resident; the guest must not run on. */
export class LazyFaultError extends Snap86Error<"lazy-fault"> {
  override name = "LazyFaultError";
  constructor(message: string) {
    super("lazy-fault", message);
  }
}

/** Emulator-worker side: blocking requests. */
export class FaultClient {
  readonly #control: Int32Array;
  readonly #staging: Uint8Array;
  readonly #error: Uint8Array;
  /** Once a chunk failed, every later request fails the same way without asking again. */
  #failed: LazyFaultError | null = null;

  constructor(
    buffers: FaultBuffers,
    private readonly timeoutMs = 30_000,
  ) {
    this.#control = new Int32Array(buffers.control);
    this.#staging = new Uint8Array(buffers.staging);
    this.#error = new Uint8Array(buffers.error);
  }

  get failed(): LazyFaultError | null {
    return this.#failed;
  }

  /**
   * Blocks until the loader has put chunk `index` (or at least its page `page`) in the staging
   * slot and returns a view of it, valid until the next request, with the mask of valid pages.
   * Throws LazyFaultError if the chunk is damaged or unreachable.
   */
  request(index: number, page: number): PartialChunk {
    if (this.#failed) throw this.#failed;
    const c = this.#control;
    Atomics.store(c, CONTROL.chunk, index);
    Atomics.store(c, CONTROL.page, page);
    Atomics.store(c, CONTROL.state, STATE.requested);
    Atomics.notify(c, CONTROL.state);
    const deadline = performance.now() + this.timeoutMs;
    let state: number;
    while ((state = Atomics.load(c, CONTROL.state)) === STATE.requested) {
      const left = deadline - performance.now();
      if (left <= 0) return this.#fail(`the loader did not deliver RAM chunk ${index} within ${this.timeoutMs / 1000} s`);
      Atomics.wait(c, CONTROL.state, STATE.requested, left);
    }
    if (state === STATE.error) {
      // Copied out first: TextDecoder refuses views on shared memory.
      const bytes = this.#error.slice(0, Atomics.load(c, CONTROL.errorLength));
      return this.#fail(new TextDecoder().decode(bytes));
    }
    const length = Atomics.load(c, CONTROL.length);
    const pages = Atomics.load(c, CONTROL.pages);
    Atomics.store(c, CONTROL.state, STATE.idle);
    return { bytes: this.#staging.subarray(0, length), pages };
  }

  /** Counts a prefetched chunk as applied, letting the loader send more. */
  consumed(): void {
    Atomics.add(this.#control, CONTROL.consumed, 1);
    Atomics.notify(this.#control, CONTROL.consumed);
  }

  close(): void {
    Atomics.store(this.#control, CONTROL.closed, 1);
    Atomics.notify(this.#control, CONTROL.state);
    Atomics.notify(this.#control, CONTROL.consumed);
  }

  #fail(message: string): never {
    this.#failed = new LazyFaultError(message);
    throw this.#failed;
  }
}

/** All pages of a chunk (up to 32 pages per chunk). */
export const WHOLE_CHUNK = -1;

/**
 * Loader side: answers requests until the session is closed. `read(index, page)` gives the whole
 * chunk, or a PartialChunk whose mask includes `page`.
 */
export async function serveFaults(buffers: FaultBuffers, read: (index: number, page: number) => Promise<Uint8Array | PartialChunk>): Promise<void> {
  const c = new Int32Array(buffers.control);
  const staging = new Uint8Array(buffers.staging);
  const errorSlot = new Uint8Array(buffers.error);
  for (;;) {
    if (Atomics.load(c, CONTROL.closed)) return;
    const state = Atomics.load(c, CONTROL.state);
    if (state !== STATE.requested) {
      await waitForChange(c, CONTROL.state, state);
      continue;
    }
    const index = Atomics.load(c, CONTROL.chunk);
    const page = Atomics.load(c, CONTROL.page);
    try {
      const got = await read(index, page);
      const data = got instanceof Uint8Array ? got : got.bytes;
      if (data.byteLength > staging.byteLength) throw new Error(`RAM chunk ${index} is ${data.byteLength} bytes, larger than a chunk`);
      staging.set(data);
      Atomics.store(c, CONTROL.length, data.byteLength);
      Atomics.store(c, CONTROL.pages, got instanceof Uint8Array ? WHOLE_CHUNK : got.pages);
      Atomics.store(c, CONTROL.state, STATE.done);
    } catch (e) {
      const message = new TextEncoder().encode(e instanceof Error ? e.message : String(e)).subarray(0, errorSlot.byteLength);
      errorSlot.set(message);
      Atomics.store(c, CONTROL.errorLength, message.byteLength);
      Atomics.store(c, CONTROL.state, STATE.error);
    }
    Atomics.notify(c, CONTROL.state);
  }
}

/** Resolves once `c[slot]` is no longer `value` (or the session closes). */
export async function waitForChange(c: Int32Array, slot: number, value: number): Promise<void> {
  const r = (Atomics as unknown as AtomicsWithWaitAsync).waitAsync(c, slot, value);
  if (r.async) await r.value;
}

/** Flow control: resolves once fewer than `window` sent chunks are unconsumed. */
export async function waitForWindow(buffers: FaultBuffers, sent: number, window: number): Promise<void> {
  const c = new Int32Array(buffers.control);
  for (;;) {
    if (Atomics.load(c, CONTROL.closed)) return;
    const consumed = Atomics.load(c, CONTROL.consumed);
    if (sent - consumed < window) return;
    await waitForChange(c, CONTROL.consumed, consumed);
  }
}

/** ES2024 (Chromium 87+, Node 16+); the project's TypeScript lib predates it. */
interface AtomicsWithWaitAsync {
  waitAsync(c: Int32Array, slot: number, value: number): { async: false; value: string } | { async: true; value: Promise<string> };
}

export function isClosed(buffers: FaultBuffers): boolean {
  return Atomics.load(new Int32Array(buffers.control), CONTROL.closed) !== 0;
}
