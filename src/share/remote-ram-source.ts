// RAM of a shared checkpoint as the lazy-restore loader reads it (a ChunkSource): the pack's pages
// first, faults at once with high priority, the rest once the guest stops waiting; every chunk
// verified and stored here, every pack page checked against its verified chunk, and the
// checkpoint listed once all of that is done. See docs/sharing.md.
import { InFlight } from "../async/in-flight";
import type { PackPagesListener, PartialChunk } from "../lazy/chunk-source";
import { shareErrors } from "./errors";
import { manifestChunkHashes, type CheckpointManifest } from "../checkpoint/manifest";
import { decodePackPart, PACK_PAGE_SIZE } from "./page-pack";
import { fetchChunk, type ShareBridgeDeps } from "./checkpoint-share";
import { shareReader, type ShareReader } from "./share-session";
import type { OpenedShareLink } from "../protocol/checkpoint-io";
import { verifyChunk, type NewChunk } from "../checkpoint/store";

const PREFETCH_FETCHES = 4;
const QUIET_MS = 300;
const MAX_QUIET_WAIT_MS = 3000;

/** At most `size` tasks at once, the rest in FIFO order. */
class Slots {
  #free: number;
  readonly #waiting: Array<() => void> = [];
  constructor(size: number) {
    this.#free = size;
  }
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    }
  }
}

/**
 * RAM chunks of a shared checkpoint for the lazy-restore loader: from this browser's store when
 * present (another checkpoint had the same content), else fetched, verified and stored, so the
 * checkpoint is complete locally once every chunk went through here; then its manifest is
 * committed and it is listed.
 */
export class SharedRamSource {
  readonly #stored = new Set<string>();
  readonly #pagesPerChunk: number;
  #committed = false;
  /** Prefetch fetches in flight at most: the browser's per-host connections stay free for faults. */
  readonly #prefetchSlots = new Slots(PREFETCH_FETCHES);

  /** Stores still under way: the manifest is committed only after all of them. */
  readonly #writes = new InFlight();

  private readonly opened: ShareReader;
  readonly manifest: CheckpointManifest;

  private constructor(
    private readonly deps: ShareBridgeDeps,
    private readonly link: OpenedShareLink,
    /** Chunks this browser held when the open began (other checkpoints with the same content). */
    private readonly present: ReadonlySet<string>,
  ) {
    this.manifest = link.manifest;
    this.opened = shareReader(deps.client, link.keys, link);
    this.#pagesPerChunk = this.manifest.chunkSize / PACK_PAGE_SIZE;
  }

  /** Reads on from the link prepareSharedCheckpoint opened (keys and envelope, not the link again). */
  static async resume(deps: ShareBridgeDeps, link: OpenedShareLink): Promise<SharedRamSource> {
    const m = link.manifest;
    // Registers (again) the pending write prepareSharedCheckpoint began, and says what is here.
    const present = await deps.checkpoints.beginWrite(m.id, manifestChunkHashes(m));
    const source = new SharedRamSource(deps, link, new Set(present.keys()));
    source.#streamPack();
    return source;
  }

  /**
   * Pack pages by RAM page, until the chunk they belong to has been verified (by content hash)
   * and found to hold the same bytes: only then is the pack's word on a page confirmed.
   */
  readonly #packPages = new Map<number, Uint8Array>();
  /** Pack parts that arrived before the loader listened, and the listener once it does. */
  #pendingParts: Array<{ pages: readonly number[]; data: Uint8Array }> = [];
  #listener: PackPagesListener | null = null;

  /** Settles when the pack has streamed (or failed, or was dropped): other prefetch waits, the pack gets the bandwidth. */
  #packDone: Promise<void> = Promise.resolve();
  /** Drops the pack once it is of no use (every chunk went through); a stalled stream never blocks. */
  readonly #packAbort = new AbortController();

  /**
   * The working set's pages in one request, each part usable as soon as it arrived. A part that
   * fails to decrypt or decode ends the pack: its pages are then fetched with their chunks.
   */
  #streamPack(): void {
    if (!this.link.pack) return;
    const pageCount = Math.ceil(this.manifest.ram.length / PACK_PAGE_SIZE);
    this.#packDone = this.opened
      .readPack((plain) => {
        const part = decodePackPart(plain, this.manifest.id, pageCount);
        const fresh: number[] = [];
        const data = new Uint8Array(part.pages.length * PACK_PAGE_SIZE);
        part.pages.forEach((page, k) => {
          const hash = this.manifest.ram.chunks[Math.floor(page / this.#pagesPerChunk)];
          // A zero chunk has no pages to send, and chunks here already need no pack.
          if (!hash || this.present.has(hash) || this.#packPages.has(page)) return;
          const bytes = part.data.slice(k * PACK_PAGE_SIZE, (k + 1) * PACK_PAGE_SIZE);
          this.#packPages.set(page, bytes);
          data.set(bytes, fresh.length * PACK_PAGE_SIZE);
          fresh.push(page);
        });
        if (fresh.length === 0) return;
        const pages = { pages: fresh, data: data.subarray(0, fresh.length * PACK_PAGE_SIZE) };
        if (this.#listener) this.#listener(pages.pages, pages.data);
        else this.#pendingParts.push(pages);
      }, this.#packAbort.signal)
      .catch(() => undefined);
  }

  /** The loader hears each pack part's pages (and those that came before it asked). */
  onPackPages(listener: PackPagesListener): void {
    this.#listener = listener;
    for (const p of this.#pendingParts) listener(p.pages, p.data);
    this.#pendingParts = [];
  }

  /** The pack has streamed (or failed, or was dropped): each of its parts went to the listener. */
  packStreamed(): Promise<void> {
    return this.#packDone;
  }

  /**
   * A fault on `page` that the pack already answered: the chunk with every pack page it has,
   * and which pages those are; undefined when the page is not in the pack (fetch the chunk).
   */
  partial(index: number, page: number): PartialChunk | undefined {
    // The fault channel's mask has 32 bits: chunks of more pages (≥ 256 KiB) fault whole.
    if (this.#pagesPerChunk > 32 || !this.#packPages.has(page)) return undefined;
    const first = index * this.#pagesPerChunk;
    const bytes = new Uint8Array(this.manifest.chunkSize);
    let pages = 0;
    for (let k = 0; k < this.#pagesPerChunk; k++) {
      const p = this.#packPages.get(first + k);
      if (!p) continue;
      bytes.set(p, k * PACK_PAGE_SIZE);
      pages |= 1 << k;
    }
    return { bytes, pages };
  }

  /** The pack's pages of chunk `index` must equal the verified chunk's; then they are confirmed. */
  #confirmPackPages(index: number, raw: Uint8Array): void {
    const first = index * this.#pagesPerChunk;
    for (let k = 0; k < this.#pagesPerChunk; k++) {
      const p = this.#packPages.get(first + k);
      if (!p) continue;
      const at = k * PACK_PAGE_SIZE;
      if (raw.byteLength < at + PACK_PAGE_SIZE || p.some((b, i) => b !== raw[at + i])) {
        throw shareErrors.damaged(`the pack's copy of RAM page ${first + k} differs from its chunk`);
      }
      this.#packPages.delete(first + k);
    }
  }

  #storeInBackground(record: NewChunk): void {
    const write = this.deps.checkpoints.putChunks([record]).then(() => void this.#stored.add(record.hash));
    this.#writes.track(write);
  }

  #hash(index: number): string {
    const hash = this.manifest.ram.chunks[index];
    if (!hash) throw new Error(`RAM chunk ${index} of checkpoint ${this.manifest.id} is zero or out of range: nothing to load`);
    return hash;
  }

  /** A fault: fetched at once, with high priority. */
  async read(index: number): Promise<Uint8Array> {
    return (await this.#read([index], true))[0];
  }

  /** Prefetch: a few fetches at a time, low priority. */
  readMany(indices: readonly number[]): Promise<Uint8Array[]> {
    return this.#read(indices, false);
  }

  async #read(indices: readonly number[], demand: boolean): Promise<Uint8Array[]> {
    const hashes = indices.map((i) => this.#hash(i));
    // Only chunks known to be here are looked up: a fault on a missing one goes straight out.
    const maybeLocal = hashes.map((h) => this.present.has(h) || (this.#stored.has(h) && !this.#fetching.has(h)));
    const lookups = hashes.filter((_, k) => maybeLocal[k]);
    const found = lookups.length > 0 ? await this.deps.checkpoints.getChunkRecords(lookups) : [];
    let next = 0;
    const local = maybeLocal.map((m) => (m ? found[next++] : undefined));
    return Promise.all(
      hashes.map(async (hash, k) => {
        const length = Math.min(this.manifest.chunkSize, this.manifest.ram.length - indices[k] * this.manifest.chunkSize);
        if (local[k]) {
          this.#stored.add(hash);
          return verifyChunk(local[k], hash, this.manifest.id, length);
        }
        if (demand) this.#lastDemand = performance.now();
        const raw = demand ? await this.#fetch(hash, "high") : await this.#prefetchSlots.run(() => this.#fetchOrLocal(hash, length));
        if (raw.byteLength !== length) throw shareErrors.damaged(`object for chunk ${hash} has ${raw.byteLength} bytes, ${length} expected`);
        this.#confirmPackPages(indices[k], raw);
        return raw;
      }),
    );
  }

  /** When the guest last waited on the network (a fault that missed the pack). */
  #lastDemand = 0;
  readonly #openedAt = performance.now();

  /**
   * Bulk prefetch starts once the guest has gone QUIET_MS without a network fault: until then
   * the link belongs to what the guest is waiting for (REAP: working set first, the rest after).
   */
  async #quiet(): Promise<void> {
    for (;;) {
      // A guest that keeps faulting must not starve the prefetch forever (a capture waits for it).
      const wait = Math.min(this.#lastDemand + QUIET_MS, this.#openedAt + MAX_QUIET_WAIT_MS) - performance.now();
      if (wait <= 0) return;
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  /** Fetches under way by hash: a fault on a chunk prefetch is already fetching waits for that fetch. */
  readonly #fetching = new Map<string, Promise<Uint8Array>>();

  /** One network fetch per chunk at a time; stored here as soon as it is verified. */
  #fetch(hash: string, priority: "high" | "low"): Promise<Uint8Array> {
    const running = this.#fetching.get(hash);
    if (running) return running;
    const p = (async () => {
      const { raw, sealedBytes: _sealed, ...record } = await fetchChunk(this.opened, hash, this.manifest.chunkSize, priority);
      // Stored in the background: the guest waits for the bytes, not for IndexedDB.
      this.#storeInBackground(record);
      return raw;
    })();
    this.#fetching.set(hash, p);
    void p.finally(() => this.#fetching.delete(hash)).catch(() => undefined);
    return p;
  }

  #packOrTimeout: Promise<void> | undefined;

  /** Prefetch, once its turn comes: a fault may have brought the chunk in meanwhile. */
  async #fetchOrLocal(hash: string, length: number): Promise<Uint8Array> {
    // The pack first, but a stalled one must not hold prefetch (and so any later capture) forever.
    this.#packOrTimeout ??= Promise.race([this.#packDone, new Promise<void>((r) => setTimeout(r, MAX_QUIET_WAIT_MS))]);
    await this.#packOrTimeout;
    await this.#quiet();
    const running = this.#fetching.get(hash);
    if (running) return running;
    if (this.#stored.has(hash)) {
      const [record] = await this.deps.checkpoints.getChunkRecords([hash]);
      if (record) return verifyChunk(record, hash, this.manifest.id, length);
    }
    return this.#fetch(hash, "low");
  }

  /** Faults must not wait behind queued prefetch (see loader-session). */
  readonly demandBypassesPrefetch = true;

  /**
   * Lists the checkpoint once every RAM chunk is stored and every pack page confirmed; returns
   * whether it is (now) listed. Throws ShareError("damaged") if a pack page was not its chunk's.
   */
  async commitIfComplete(): Promise<boolean> {
    if (this.#committed) return true;
    // Every chunk went through: pages the pack has not delivered yet are not needed any more.
    this.#packAbort.abort();
    await this.#packDone;
    await this.#writes.idle();
    // Pages whose chunk never came through #read (this browser had it, or the pack came late).
    const unconfirmed = [...new Set([...this.#packPages.keys()].map((page) => Math.floor(page / this.#pagesPerChunk)))];
    for (const index of unconfirmed) {
      const hash = this.#hash(index);
      const [record] = await this.deps.checkpoints.getChunkRecords([hash]);
      if (!record) return false;
      this.#confirmPackPages(index, await verifyChunk(record, hash, this.manifest.id));
    }
    const missing = this.manifest.ram.chunks.filter((h): h is string => !!h && !this.#stored.has(h));
    if (missing.length > 0) {
      // Chunks read before this session (or deduplicated) may be stored already.
      const records = await this.deps.checkpoints.getChunkRecords([...new Set(missing)]);
      if (records.some((r) => !r)) return false;
    }
    await this.deps.checkpoints.commitManifest(this.manifest, this.manifest.id);
    this.#committed = true;
    return true;
  }
}

