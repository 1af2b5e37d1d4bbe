// RAM of a shared checkpoint as the lazy-restore loader reads it (a ChunkSource): the pack first,
// faults at once with high priority, the rest once the guest stops waiting; every chunk verified
// and stored here, and the checkpoint listed once all of it is. See docs/share-scheme.md.
import { shareErrors } from "../share/errors";
import { manifestChunkHashes, type CheckpointManifest } from "./manifest";
import { decodeObject, fetchChunk, openChecked, type Opened, type ShareBridgeDeps } from "./share-bridge";
import { sha256Hex } from "./codec";
import { verifyChunk, type NewChunk } from "./store";

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
  #committed = false;
  /** Prefetch fetches in flight at most: the browser's per-host connections stay free for faults. */
  readonly #prefetchSlots = new Slots(PREFETCH_FETCHES);

  /** Stores still under way: the manifest is committed only after all of them. */
  readonly #writes = new Set<Promise<unknown>>();

  private constructor(
    private readonly deps: ShareBridgeDeps,
    private readonly opened: Opened["opened"],
    readonly manifest: CheckpointManifest,
    /** Chunks this browser held when the open began (other checkpoints with the same content). */
    private readonly present: ReadonlySet<string>,
  ) {}

  static async open(deps: ShareBridgeDeps, link: string): Promise<SharedRamSource> {
    const { opened, m } = await openChecked(deps, link);
    // Registers (again) the pending write prepareSharedCheckpoint began, and says what is here.
    const present = await deps.checkpoints.beginWrite(m.id, manifestChunkHashes(m));
    const source = new SharedRamSource(deps, opened, m, new Set(present.keys()));
    source.#streamPack();
    return source;
  }

  /** Pack entries by chunk hash: resolves with the bytes, or undefined if the pack failed (fetch it alone). */
  readonly #packed = new Map<string, { done: Promise<Uint8Array | undefined>; resolve(bytes: Uint8Array | undefined): void; bytes?: Uint8Array }>();

  /** Settles when the pack has streamed (or failed): other prefetch waits, the pack gets the bandwidth. */
  #packDone: Promise<void> = Promise.resolve();

  /** The working set in one request: each chunk usable as soon as its part has arrived. */
  #streamPack(): void {
    const pack = this.opened.manifest.pack;
    if (!pack) return;
    for (const [key] of pack.entries) {
      if (this.present.has(key) || this.#packed.has(key)) continue;
      let resolve!: (bytes: Uint8Array | undefined) => void;
      const done = new Promise<Uint8Array | undefined>((r) => (resolve = r));
      this.#packed.set(key, { done, resolve });
    }
    this.#packDone = this.opened
      .readPack(async (key, plain) => {
        const slot = this.#packed.get(key);
        if (!slot || slot.bytes) return;
        try {
          const obj = decodeObject(key, plain, this.manifest.chunkSize);
          if ((await sha256Hex(obj.raw)) !== key) throw shareErrors.damaged(`object for chunk ${key} has other content`);
          slot.bytes = obj.raw;
          this.#storeInBackground({ hash: key, bytes: obj.encoded, rawLength: obj.rawLength, codec: obj.codec });
          slot.resolve(obj.raw);
        } catch {
          slot.resolve(undefined); // fetched on its own later, where a real error surfaces
        }
      })
      .catch(() => undefined)
      .finally(() => {
        for (const slot of this.#packed.values()) if (!slot.bytes) slot.resolve(undefined);
      })
      .then(() => undefined);
  }

  #storeInBackground(record: NewChunk): void {
    const write = this.deps.checkpoints.putChunks([record]).then(() => void this.#stored.add(record.hash));
    this.#writes.add(write);
    void write.finally(() => this.#writes.delete(write)).catch(() => undefined);
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
        const packed = this.#packed.get(hash);
        // A fault takes the pack's copy if it is here already; prefetch waits for the pack.
        const fromPack = packed?.bytes ?? (!demand && packed ? await packed.done : undefined);
        if (fromPack) this.#packed.delete(hash); // the loader keeps what it needs; the pack's copy can go
        if (demand && !fromPack) this.#lastDemand = performance.now();
        const raw = fromPack ?? (demand ? await this.#fetch(hash, "high") : await this.#prefetchSlots.run(() => this.#fetchOrLocal(hash, length)));
        if (raw.byteLength !== length) throw shareErrors.damaged(`object for chunk ${hash} has ${raw.byteLength} bytes, ${length} expected`);
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

  /** Prefetch, once its turn comes: a fault may have brought the chunk in meanwhile. */
  async #fetchOrLocal(hash: string, length: number): Promise<Uint8Array> {
    await this.#packDone;
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

  /** Lists the checkpoint once every RAM chunk is stored; returns whether it is (now) listed. */
  async commitIfComplete(): Promise<boolean> {
    if (this.#committed) return true;
    while (this.#writes.size > 0) await Promise.allSettled([...this.#writes]);
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

