// A lazy restore as the emulator worker runs it: the device state is applied at once, RAM pages
// arrive on first touch through the blocking fault channel, and the loader's background prefetch
// fills the rest between ticks until lazy mode can be switched off.
import type { CheckpointManifest } from "../protocol/checkpoint-data";
import { createFaultBuffers, FaultClient, LazyFaultError, WHOLE_CHUNK } from "./fault-channel";
import { ShelfReader } from "./chunk-shelf";
import { FirstTouches } from "./first-touches";
import type { LazyCpu } from "../v86/lazy-ram";
import { LazyRamSession } from "../v86/lazy-ram";
import { reseedGuestRandom } from "../v86/guest-rng";
import type { LazyWasmHandle } from "../v86/instrumented-wasm";
import type { OpenedShareLink } from "../protocol/checkpoint-io";
import type { BeginMessage, LoaderMessage, TouchedMessage, WarmMessage } from "../protocol/ram-loader";
import type { LocalChunks } from "./local-chunks";
import { PAGE_SIZE } from "../v86/page-walker";
import { popcount } from "../v86/page-set";
import { RECORD_MS } from "./working-set-store";
import { Snap86Error } from "../protocol/errors";

/** The loader worker as this side uses it (a Worker in browsers, a stand-in in tests). */
export interface LoaderPort {
  postMessage(message: BeginMessage | WarmMessage | TouchedMessage): void;
  addEventListener(type: "message", fn: (event: MessageEvent<LoaderMessage>) => void): void;
  removeEventListener(type: "message", fn: (event: MessageEvent<LoaderMessage>) => void): void;
}

export interface LazyRestoreInput {
  cpu: LazyCpu;
  wasm: LazyWasmHandle;
  manifest: Pick<CheckpointManifest, "id" | "chunkSize" | "ram"> & Partial<CheckpointManifest>;
  loader: LoaderPort;
  /** Calls v86's restore_state with the device state (RAM is left to this session). */
  restoreState(): void;
  /** A chunk could not be loaded or verified: the guest must be stopped, the user told. */
  onFatal(error: LazyFaultError): void;
  /**
   * Every page is resident and lazy mode is off. `touched`: the pages the guest touched first
   * after the restore (in order), its working set until the walk recorder has seen its own.
   */
  onComplete?(touched: readonly number[]): void;
  /** RAM is the checkpoint's now (lazily): called before anything writes to it (the CRNG reseed). */
  onRestored?(): void;
  /** Chunks already decoded in this worker (by content hash): used instead of the loader. */
  local?: LocalChunks;
  /** An opened share link: the loader fetches RAM from the checkpoint store and keeps it in this browser. */
  share?: OpenedShareLink;
  /** A resume of a machine's session: see BeginMessage.resumeKey. */
  resumeKey?: string;
}

export interface LazyProgress {
  active: boolean;
  residentPages: number;
  totalPages: number;
  faults: number;
  /** Bytes of non-zero chunks (or of their pages) the loader delivered for faults (not prefetch). */
  faultBytes: number;
}

const ZERO_PAGE = new Uint8Array(PAGE_SIZE);
/** Zero or in-memory chunks installed per event-loop turn: 2 MiB of copying stays well under a tick. */
const CHUNKS_PER_TURN = 64;
/** The longest a restore from this browser's store waits for the working set's first chunks ("warmed"). */
const WARM_WAIT_MS = 150;
/** The longest a share's restore waits for its pack (≤ 4 MB: under a second at 50 Mbit/s); a stalled one must not hold the start. */
const PACK_WAIT_MS = 3000;
let nextSession = 1;

export class LazyRestore {
  readonly session = nextSession++;
  readonly ram: LazyRamSession;
  readonly #client: FaultClient;
  readonly #pagesPerChunk: number;
  #faultBytes = 0;
  #prefetchDone = false;
  /** Settles when the loader sent the working set's first chunks (see the "warmed" message). */
  #warmed: () => void = () => undefined;
  readonly #whenWarmed = new Promise<void>((resolve) => (this.#warmed = resolve));
  #zerosDone = false;
  #finished = false;
  #failed = false;
  #resolveComplete!: () => void;
  readonly #complete = new Promise<void>((resolve) => (this.#resolveComplete = resolve));
  readonly #onMessage = (event: MessageEvent<LoaderMessage>): void => this.#message(event.data);

  private constructor(private readonly input: LazyRestoreInput) {
    const { manifest } = input;
    if (manifest.chunkSize % PAGE_SIZE !== 0) throw new Snap86Error("checkpoint-format", `chunk size ${manifest.chunkSize} is not a multiple of the page size`);
    this.#pagesPerChunk = manifest.chunkSize / PAGE_SIZE;
    const buffers = createFaultBuffers(manifest.chunkSize, manifest.ram.chunks.length);
    this.#client = new FaultClient(buffers);
    this.#shelf = buffers.shelf ? new ShelfReader(buffers.shelf) : null;
    const pageCount = Math.ceil(manifest.ram.length / PAGE_SIZE);
    const touches = new FirstTouches(pageCount, RECORD_MS, (pages) => input.loader.postMessage({ type: "touched", session: this.session, pages }));
    this.#touches = touches;
    this.ram = new LazyRamSession(input.cpu, input.wasm, (page, dest) => this.#fill(page, dest), {
      residencyBuffer: new SharedArrayBuffer(Math.ceil(pageCount / 32) * 4),
      onTouch: (page) => touches.touch(page),
    });
    this.#buffers = buffers;
  }
  readonly #touches: FirstTouches;
  readonly #buffers: ReturnType<typeof createFaultBuffers>;
  readonly #shelf: ShelfReader | null;

  /**
   * Hands the checkpoint to the loader, waits until it can answer faults, then applies the
   * device state with RAM lazy. The caller has stopped the emulator and runs it afterwards.
   */
  static async start(input: LazyRestoreInput): Promise<LazyRestore> {
    const r = new LazyRestore(input);
    try {
      await r.#begin();
      await r.ram.restoreLazily(() => input.restoreState());
      input.onRestored?.();
      // Before the guest runs on: fresh host entropy for its CRNG (loads the two pages it needs).
      reseedGuestRandom(input.cpu);
      // From this browser's store the working set's first chunks arrive in tens of ms, read in
      // batches; the guest's first steps would otherwise fetch them one fault at a time (a reload
      // waited ~4 ms per fault for ~70 of them). A share's working set is its pack, streamed at
      // the link's bandwidth: a page the guest reaches before its part costs a round trip and a
      // whole chunk (a first visit faulted 165 times under load instead of 2).
      await Promise.race([r.#whenWarmed, new Promise((resolve) => setTimeout(resolve, input.share ? PACK_WAIT_MS : WARM_WAIT_MS))]);
    } catch (e) {
      r.abort();
      throw e;
    }
    if (r.input.cpu.memory_size[0] !== input.manifest.ram.length) {
      r.abort();
      throw new Snap86Error("checkpoint-incompatible", `checkpoint RAM is ${input.manifest.ram.length} bytes, the machine has ${r.input.cpu.memory_size[0]}`);
    }
    r.#pumpLocal();
    return r;
  }

  #begin(): Promise<void> {
    const { loader, manifest } = this.input;
    loader.addEventListener("message", this.#onMessage);
    // The loader prefetches only what this worker cannot fill from memory.
    const order: number[] = [];
    manifest.ram.chunks.forEach((hash, i) => {
      if (hash && !this.#localBytes(hash)) order.push(i);
    });
    return new Promise<void>((resolve, reject) => {
      this.#ready = { resolve, reject };
      const share = this.input.share;
      loader.postMessage({
        type: "begin",
        session: this.session,
        checkpointId: manifest.id,
        buffers: this.#buffers,
        order,
        ...(isFullManifest(manifest) ? { manifest } : {}),
        ...(share ? { share } : {}),
        ...(this.input.resumeKey ? { resumeKey: this.input.resumeKey } : {}),
      });
    });
  }
  #ready: { resolve(): void; reject(e: Error): void } | null = null;

  get active(): boolean {
    return !this.#finished && this.ram.active;
  }

  /** Resolves once every page is resident (or the session was aborted). */
  complete(): Promise<void> {
    return this.#complete;
  }

  progress(): LazyProgress {
    const map = this.ram.residency;
    return {
      active: this.active,
      residentPages: map?.residentCount ?? 0,
      totalPages: map?.pageCount ?? 0,
      faults: this.ram.stats.faults,
      faultBytes: this.#faultBytes,
    };
  }

  /** Ends the session without completing it; RAM must then be overwritten or the guest stopped. */
  abort(): void {
    this.ram.abort();
    this.#end();
  }

  /** The page source of the RAM session: runs inside the wasm page-walk hook, so it blocks. */
  #fill(page: number, dest: Uint8Array): void {
    const chunk = Math.floor(page / this.#pagesPerChunk);
    const first = chunk * this.#pagesPerChunk;
    const hash = this.input.manifest.ram.chunks[chunk];
    let bytes: Uint8Array | null = null;
    let valid = WHOLE_CHUNK;
    const local = hash ? (this.#localBytes(hash) ?? this.#shelf?.take(chunk) ?? undefined) : undefined;
    if (local) bytes = local;
    else if (hash) {
      try {
        ({ bytes, pages: valid } = this.#client.request(chunk, page));
        if ((valid & (1 << (page - first))) === 0) throw new LazyFaultError(`the loader answered RAM page ${page} without it`);
      } catch (e) {
        const error = e instanceof LazyFaultError ? e : new LazyFaultError(String(e));
        this.#fatal(error);
        throw error;
      }
      this.#faultBytes += valid === WHOLE_CHUNK ? bytes.byteLength : popcount(valid) * PAGE_SIZE;
    }
    dest.set(chunkPage(bytes, page - first));
    // The rest of the chunk (or of what the loader had of it) is decoded already: installing it
    // now saves up to 7 more faults.
    this.#provideChunk(chunk, bytes, page, valid);
  }

  /** Installs the pages of chunk `index` that are still missing (all but `except`; only those in `valid`). */
  #provideChunk(index: number, bytes: Uint8Array | null | undefined, except = -1, valid = WHOLE_CHUNK): void {
    const first = index * this.#pagesPerChunk;
    for (let k = 0; k < this.#pagesPerChunk; k++) {
      if (first + k !== except && (valid & (1 << k)) !== 0) this.ram.provide(first + k, chunkPage(bytes, k));
    }
  }

  /** Pages ahead of their chunks (a share's pack); a chunk this worker holds in memory wins. */
  #providePages(pages: readonly number[], data: Uint8Array): void {
    pages.forEach((page, k) => {
      const hash = this.input.manifest.ram.chunks[Math.floor(page / this.#pagesPerChunk)];
      if (!hash || this.#localBytes(hash)) return;
      this.ram.provide(page, data.subarray(k * PAGE_SIZE, (k + 1) * PAGE_SIZE));
    });
  }

  #message(m: LoaderMessage): void {
    if (m.session !== this.session) return;
    switch (m.type) {
      case "ready":
        this.#ready?.resolve();
        this.#ready = null;
        return;
      case "error":
        if (this.#ready) {
          this.#ready.reject(new LazyFaultError(m.message));
          this.#ready = null;
        } else this.#fatal(new LazyFaultError(m.message));
        return;
      case "chunk": {
        if (this.#finished) return;
        this.#provideChunk(m.index, m.bytes);
        this.#client.consumed();
        return;
      }
      case "pages":
        if (!this.#finished) this.#providePages(m.pages, m.data);
        return;
      case "warmed":
        this.#warmed();
        return;
      case "prefetched":
        this.#prefetchDone = true;
        this.#maybeFinish();
        return;
      case "stored":
        return; // LazyRestores hears it (it may come after this session ended)
    }
  }

  /** Same hash, same bytes (and so the same length): content addressing makes this safe. */
  #localBytes(hash: string): Uint8Array | undefined {
    return this.input.local?.(hash);
  }

  /** Zero chunks and chunks held in memory need no loader: installed a slice per event-loop turn. */
  #pumpLocal(): void {
    const chunks = this.input.manifest.ram.chunks;
    let next = 0;
    const turn = (): void => {
      if (this.#finished) return;
      let done = 0;
      for (; next < chunks.length && done < CHUNKS_PER_TURN; next++) {
        const hash = chunks[next];
        const bytes = hash ? this.#localBytes(hash) : undefined;
        if (hash && !bytes) continue;
        done++;
        this.#provideChunk(next, bytes);
      }
      if (next < chunks.length) nextTask(turn);
      else {
        this.#zerosDone = true;
        this.#maybeFinish();
      }
    };
    nextTask(turn);
  }

  #maybeFinish(): void {
    if (this.#finished || !this.#prefetchDone || !this.#zerosDone) return;
    // Anything prefetch skipped (none expected) is fetched now, then the hook goes off.
    this.ram.loadAll();
    if (this.ram.finishIfComplete()) {
      this.#end();
      this.input.onComplete?.(this.#touches.pages());
    }
  }

  #fatal(error: LazyFaultError): void {
    if (this.#failed) return;
    this.#failed = true;
    // Deferred: this runs inside the wasm hook; the caller stops the machine from a clean stack.
    setTimeout(() => {
      this.abort();
      this.input.onFatal(error);
    }, 0);
  }

  #end(): void {
    if (this.#finished) return;
    this.#finished = true;
    // Recording goes on past the end of lazy mode only through the walk recorder.
    this.#touches.stop();
    this.#client.close();
    this.input.loader.removeEventListener("message", this.#onMessage);
    this.#ready?.reject(new Snap86Error("aborted", "lazy restore ended"));
    this.#ready = null;
    this.#resolveComplete();
  }
}

/**
 * Runs `fn` as a new task without setTimeout's 4 ms clamp for nested timers, so the pump keeps
 * pace with v86's own loop (which yields the same way) instead of taking 4 ms per slice.
 */
const channel = typeof MessageChannel === "function" ? new MessageChannel() : undefined;
const queued: Array<() => void> = [];
if (channel) {
  channel.port1.onmessage = () => queued.shift()?.();
  // Node (tests): an open port would keep the process alive.
  (channel.port1 as unknown as { unref?: () => void }).unref?.();
}
function nextTask(fn: () => void): void {
  if (!channel) {
    setTimeout(fn, 0);
    return;
  }
  queued.push(fn);
  channel.port2.postMessage(null);
}

function isFullManifest(m: Partial<CheckpointManifest>): m is CheckpointManifest {
  return typeof m.formatVersion === "number" && m.deviceState !== undefined && m.machine !== undefined;
}

/** Page `k` of a decoded chunk: zeros for a zero chunk or past its end (the last chunk of RAM may be short). */
function chunkPage(bytes: Uint8Array | null | undefined, k: number): Uint8Array {
  const off = k * PAGE_SIZE;
  if (!bytes || off >= bytes.byteLength) return ZERO_PAGE;
  const slice = bytes.subarray(off, off + PAGE_SIZE);
  return slice.byteLength === PAGE_SIZE ? slice : padded(slice);
}

function padded(slice: Uint8Array): Uint8Array {
  const page = new Uint8Array(PAGE_SIZE);
  page.set(slice);
  return page;
}
