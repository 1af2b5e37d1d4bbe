/**
 * The live, writable copy-on-write layer of a disk.
 *
 * Writes of any size and alignment are visible to the next read at once (v86 calls `set` after it has
 * completed a PIO write and expects the next `get` to see it). Blocks are stored whole, so a partial write
 * to a block that is not in memory needs the rest of the block from below, which is asynchronous: such a
 * block becomes a *pending* entry that keeps the writes in order (a write log) and merges them onto the
 * block from below as soon as it arrives. Reads of a pending block wait for that merge; synchronous reads
 * (`readSync`) simply miss. Flushes wait for it too.
 *
 * Write-behind: dirty blocks go to IndexedDB in batched transactions after a short delay, at once when the
 * dirty set exceeds `dirtyLimitBytes` (the disk then delays DMA completion: backpressure), and on `flush()`.
 * If IndexedDB is full, the blocks stay in memory, `onStorageFull` fires, and flushing is retried later.
 * Without a store (secure session) nothing is ever written to IndexedDB.
 */
import type { BlockSource } from "./base-image";
import { LayerChain } from "./chain";
import { storageOf, type LayerMeta } from "./db";
import { isQuotaError, LayerError, StorageFullError } from "./errors";
import type { LayerStore } from "./layer-store";
import { checkRange, evictClean, forEachPiece, secureLayerMeta, type Entry, type OverlayOptions, type OverlayStats } from "./overlay-parts";

export type { OverlayOptions, OverlayStats };

const MiB = 1024 * 1024;
export class Overlay {
  readonly layer: LayerMeta;
  readonly chain: LayerChain;
  readonly readOnly: boolean;
  readonly blockSize: number;
  readonly size: number;
  private readonly store: LayerStore | null;
  private readonly persisted: Set<number>;
  private readonly entries = new Map<number, Entry>();
  private readonly loading = new Map<number, Promise<Uint8Array>>();
  private readonly dirtyLimit: number;
  private readonly cacheLimit: number;
  private readonly flushDelay: number;
  private readonly retryDelay: number;
  private readonly batchBlocks: number;
  private readonly opts: OverlayOptions;
  private dirtyCount = 0;
  private flushQueue: Promise<void> = Promise.resolve();
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private full = false;
  private closed = false;

  constructor(o: OverlayOptions) {
    this.opts = o;
    this.layer = o.layer;
    this.chain = o.chain;
    this.store = o.store;
    this.readOnly = o.readOnly ?? false;
    this.blockSize = o.chain.blockSize;
    this.size = o.chain.size;
    if (o.layer.blockSize !== this.blockSize) throw new LayerError(`layer ${o.layer.id} uses ${o.layer.blockSize}-byte blocks, chain uses ${this.blockSize}`);
    if (o.layer.frozen && !this.readOnly) throw new LayerError(`disk layer ${o.layer.id} is frozen: open it read-only or write to a child`);
    this.persisted = new Set(o.persisted ?? []);
    for (const [index, data] of o.warm ?? []) this.entries.set(index, { data, log: [], fill: null, dirty: false, flushing: 0 });
    this.dirtyLimit = o.dirtyLimitBytes ?? 32 * MiB;
    this.cacheLimit = o.cacheBytes ?? 16 * MiB;
    this.flushDelay = o.flushDelayMs ?? 1000;
    this.retryDelay = o.retryDelayMs ?? 30_000;
    this.batchBlocks = Math.max(1, o.flushBatchBlocks ?? 64);
  }

  /** Opens a stored layer: its stored block list, and the chain of its (frozen) ancestors. */
  static async open(
    store: LayerStore,
    layerId: string,
    base: BlockSource,
    o: Omit<OverlayOptions, "layer" | "chain" | "store" | "persisted"> = {},
  ): Promise<Overlay> {
    const layer = await store.mustGet(layerId);
    if (layer.imageId !== base.imageId) throw new LayerError(`disk layer ${layerId} belongs to image ${layer.imageId}, not ${base.imageId}`);
    const chain = await LayerChain.open(store, base, layer.parent);
    const persisted = await store.blockIndices(storageOf(layer));
    return new Overlay({ ...o, layer, chain, store, persisted });
  }

  /**
   * A memory-only overlay (secure session): reads through `parentId`'s chain (or the bare base image),
   * writes never reach IndexedDB. `store` is only read from.
   */
  static async secure(
    base: BlockSource,
    store: LayerStore | null,
    parentId: string | null,
    o: Omit<OverlayOptions, "layer" | "chain" | "store" | "persisted"> = {},
  ): Promise<Overlay> {
    const chain = await LayerChain.open(store, base, parentId);
    const layer = secureLayerMeta(base, parentId);
    return new Overlay({ ...o, layer, chain, store: null });
  }

  get secure(): boolean {
    return this.store === null;
  }

  get dirtyBytes(): number {
    return this.dirtyCount * this.blockSize;
  }

  /** True when writers should wait for a flush before completing (not while storage is full: the VM must go on). */
  get overLimit(): boolean {
    return this.store !== null && !this.full && this.dirtyBytes > this.dirtyLimit;
  }

  get storageFull(): boolean {
    return this.full;
  }
  // ---- reads ----

  /** Bytes [offset, offset+length) as the guest sees them now. Always a fresh array. */
  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this.size, offset, length);
    const out = new Uint8Array(length);
    const parts: Promise<void>[] = [];
    forEachPiece(this.blockSize, offset, length, (index, inBlock, outPos, n) => {
      const e = this.entries.get(index);
      if (e && e.data && !e.fill) {
        out.set(e.data.subarray(inBlock, inBlock + n), outPos);
        this.touch(index, e);
        return;
      }
      parts.push(
        this.resolve(index).then((block) => {
          out.set(block.subarray(inBlock, inBlock + n), outPos);
        }),
      );
    });
    await Promise.all(parts);
    return out;
  }

  /** Like read() when every block is in memory; undefined otherwise (never waits). */
  readSync(offset: number, length: number): Uint8Array | undefined {
    checkRange(this.size, offset, length);
    const out = new Uint8Array(length);
    let ok = true;
    forEachPiece(this.blockSize, offset, length, (index, inBlock, outPos, n) => {
      const e = this.entries.get(index);
      if (!ok || !e || !e.data || e.fill) {
        ok = false;
        return;
      }
      out.set(e.data.subarray(inBlock, inBlock + n), outPos);
    });
    return ok ? out : undefined;
  }

  /** True when block `index` is in memory and resolved. */
  hasBlock(index: number): boolean {
    const e = this.entries.get(index);
    return !!e && !!e.data && !e.fill;
  }

  /** The block as the guest sees it (shared: do not modify). Loads it into memory. */
  private resolve(index: number): Promise<Uint8Array> {
    const e = this.entries.get(index);
    if (e) {
      if (e.data && !e.fill) return Promise.resolve(e.data);
      return this.ensureFill(index, e);
    }
    return this.loadBelow(index).then((below) => {
      // A write may have created the entry while we waited: it is newer, use it.
      const now = this.entries.get(index);
      if (now) return now.data && !now.fill ? now.data : this.ensureFill(index, now);
      const data = below.slice();
      this.entries.set(index, { data, log: [], fill: null, dirty: false, flushing: 0 });
      this.evict();
      return data;
    });
  }

  /** The stored version of a block: this layer's own copy in IndexedDB, else the chain below. Deduplicated. */
  private loadBelow(index: number): Promise<Uint8Array> {
    let p = this.loading.get(index);
    if (!p) {
      const own = this.persisted.has(index) && this.store;
      p = own
        ? this.store!.readBlock(storageOf(this.layer), index).then((d) => {
            if (!d) throw new LayerError(`block ${index} of disk layer ${this.layer.id} is missing from storage`);
            return d;
          })
        : this.chain.readBlock(index);
      const mine = p;
      const clear = () => {
        if (this.loading.get(index) === mine) this.loading.delete(index);
      };
      p.then(clear, clear);
      this.loading.set(index, p);
    }
    return p;
  }

  private ensureFill(index: number, e: Entry): Promise<Uint8Array> {
    if (e.data && !e.fill) return Promise.resolve(e.data);
    if (e.fill) return e.fill;
    const fill = this.loadBelow(index).then(
      (below) => {
        const data = below.slice();
        for (const [off, bytes] of e.log) data.set(bytes, off);
        e.data = data;
        e.log = [];
        e.fill = null;
        return data;
      },
      (err: unknown) => {
        // Keep the logged writes; the next access retries the fill.
        e.fill = null;
        throw err;
      },
    );
    e.fill = fill;
    return fill;
  }

  // ---- writes ----

  /** Applies a write now (visible to the next read). Returns overLimit: the caller should wait for flush(). */
  write(offset: number, data: Uint8Array): boolean {
    if (this.readOnly) throw new LayerError(`disk layer ${this.layer.id} is read-only`);
    if (this.closed) throw new LayerError(`disk layer ${this.layer.id} is closed`);
    checkRange(this.size, offset, data.byteLength);
    forEachPiece(this.blockSize, offset, data.byteLength, (index, inBlock, srcPos, n) => {
      const bytes = data.subarray(srcPos, srcPos + n);
      let e = this.entries.get(index);
      if (e && e.data && !e.fill) {
        e.data.set(bytes, inBlock);
      } else if (e) {
        e.log.push([inBlock, bytes.slice()]);
        void this.ensureFill(index, e).catch(() => {});
      } else if (n === this.blockSize) {
        e = { data: bytes.slice(), log: [], fill: null, dirty: false, flushing: 0 };
        this.entries.set(index, e);
      } else {
        e = { data: null, log: [[inBlock, bytes.slice()]], fill: null, dirty: false, flushing: 0 };
        this.entries.set(index, e);
        void this.ensureFill(index, e).catch(() => {});
      }
      if (!e.dirty) {
        e.dirty = true;
        this.dirtyCount++;
      }
      this.touch(index, e);
    });
    this.evict();
    this.scheduleFlush();
    return this.overLimit;
  }

  // ---- flushing ----

  /**
   * Barrier: resolves once every write made before the call is in IndexedDB (a no-op for secure overlays).
   * Rejects with StorageFullError when IndexedDB is full (the data stays in memory).
   */
  flush(): Promise<void> {
    if (!this.store) return Promise.resolve();
    if (this.flushTimer !== null) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    const run = this.flushQueue.then(() => this.flushOnce());
    this.flushQueue = run.catch(() => {});
    return run;
  }

  private scheduleFlush(): void {
    if (!this.store || this.closed) return;
    if (this.overLimit) {
      this.flush().catch((e: unknown) => this.backgroundError(e));
      return;
    }
    if (this.flushTimer !== null) return;
    this.flushTimer = setTimeout(
      () => {
        this.flushTimer = null;
        this.flush().catch((e: unknown) => this.backgroundError(e));
      },
      this.full ? this.retryDelay : this.flushDelay,
    );
  }

  private backgroundError(e: unknown): void {
    if (!(e instanceof StorageFullError)) this.opts.onFlushError?.(e);
    // Try again later; a storage-full overlay retries on the slow timer.
    if (this.dirtyCount > 0) this.scheduleFlush();
  }

  private async flushOnce(): Promise<void> {
    const store = this.store!;
    for (;;) {
      const batch: number[] = [];
      for (const [index, e] of this.entries) {
        if (e.dirty) batch.push(index);
        if (batch.length >= this.batchBlocks) break;
      }
      if (batch.length === 0) break;
      // Pending blocks need their data from below before they can be stored whole.
      await Promise.all(batch.map((i) => this.ensureFill(i, this.entries.get(i)!)));
      const blocks: Array<readonly [number, Uint8Array]> = [];
      const taken: Entry[] = [];
      let count = this.persisted.size;
      for (const index of batch) {
        const e = this.entries.get(index)!;
        if (!e.dirty || !e.data || e.fill) continue;
        // Cleared before the put: a write during the transaction dirties the block again, so it is flushed again.
        e.dirty = false;
        e.flushing++;
        this.dirtyCount--;
        taken.push(e);
        blocks.push([index, e.data]);
        if (!this.persisted.has(index)) count++;
      }
      try {
        await store.writeBlocks(this.layer.id, blocks, count);
      } catch (err) {
        for (const e of taken) {
          e.flushing--;
          if (!e.dirty) {
            e.dirty = true;
            this.dirtyCount++;
          }
        }
        if (isQuotaError(err) || isQuotaError((err as { cause?: unknown })?.cause)) {
          const full = new StorageFullError(this.dirtyBytes);
          const first = !this.full;
          this.full = true;
          if (first) this.opts.onStorageFull?.(full);
          throw full;
        }
        throw err;
      }
      for (const e of taken) e.flushing--;
      for (const [index] of blocks) this.persisted.add(index);
      this.full = false;
      this.layer.blockCount = this.persisted.size;
      this.layer.bytes = this.persisted.size * this.blockSize;
      this.evict();
    }
  }

  /** Flushes and stops background work. The overlay must not be used afterwards. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.flush();
    } finally {
      this.closed = true;
      if (this.flushTimer !== null) clearTimeout(this.flushTimer);
      this.flushTimer = null;
      this.opts.onClose?.();
    }
  }

  /** Blocks in memory and stored, least recently used first (for a child's `warm`, once this layer is frozen). */
  *cleanBlocks(): Generator<readonly [number, Uint8Array]> {
    for (const [index, e] of this.entries) if (!e.dirty && e.flushing === 0 && e.data && !e.fill) yield [index, e.data];
  }

  /** Forgets everything without writing (a wiped or discarded session). */
  discard(): void {
    this.closed = true;
    if (this.flushTimer !== null) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    this.entries.clear();
    this.dirtyCount = 0;
    this.opts.onClose?.();
  }

  stats(): OverlayStats {
    let own = this.persisted.size;
    for (const [index, e] of this.entries) if ((e.dirty || e.flushing > 0) && !this.persisted.has(index)) own++;
    let memory = 0;
    for (const e of this.entries.values()) memory += e.data ? this.blockSize : e.log.reduce((s, [, b]) => s + b.byteLength, 0);
    return {
      layerId: this.layer.id,
      secure: this.secure,
      blocks: own,
      bytes: own * this.blockSize,
      dirtyBlocks: this.dirtyCount,
      dirtyBytes: this.dirtyBytes,
      memoryBytes: memory,
      storageFull: this.full,
    };
  }

  /** Map order is the LRU order: most recently used last. */
  private touch(index: number, e: Entry): void {
    this.entries.delete(index);
    this.entries.set(index, e);
  }

  /** Drops least recently used clean blocks beyond the cache budget. Dirty and pending blocks stay. */
  private evict(): void {
    evictClean(this.entries, this.dirtyCount, this.blockSize, this.cacheLimit);
  }
}
