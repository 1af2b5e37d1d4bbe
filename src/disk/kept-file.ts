/**
 * A user's image chosen as a file, kept in IndexedDB ("snap86-images") so that a reload boots it
 * without the file. While the file is at hand its blocks come from the file, by slices, and are
 * stored as they are read; a background copy stores the rest, then marks the image complete.
 * After a reload `StoredImage` reads the kept blocks. Both have the file's identity as image id,
 * so the copy-on-write overlays made on the file continue on the kept copy.
 */
import { blockCountOf, HttpBaseImage, type BaseImageStats, type BlockSource } from "./base-image";
import { BaseImageError } from "./errors";
import { keptBlocks, openImageDb, type ImageDb, type KeptImageMeta } from "../storage/image-db";
import { Snap86Error } from "../protocol/errors";

/** Bytes the browser still lets this origin store, or null when it does not say. */
export async function storageRoom(): Promise<{ quota: number; usage: number } | null> {
  const estimate = await globalThis.navigator?.storage?.estimate?.().catch(() => undefined);
  if (!estimate?.quota) return null;
  return { quota: estimate.quota, usage: estimate.usage ?? 0 };
}

export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${Math.ceil(n / 1024)} KiB`;
}

export class KeptFileImage implements BlockSource {
  readonly size: number;
  private readonly kept = new Set<number>();
  private bytesRead = 0;
  private copying: Promise<void> | undefined;

  private constructor(
    readonly imageId: string,
    readonly blockSize: number,
    private readonly file: Blob,
    private readonly db: ImageDb,
    private readonly meta: KeptImageMeta,
  ) {
    this.size = file.size;
  }

  /** Starts keeping `file` (continuing a copy an earlier boot began). */
  static async open(file: Blob, o: { imageId: string; name: string; blockSize: number; db?: ImageDb }): Promise<KeptFileImage> {
    const db = o.db ?? (await openImageDb());
    const meta = (await db.get("images", o.imageId)) ?? { id: o.imageId, name: o.name, size: file.size, blockSize: o.blockSize, complete: false, created: Date.now() };
    if (meta.size !== file.size || meta.blockSize !== o.blockSize) throw new Snap86Error("image-invalid", `${o.name} changed since it was kept`);
    await db.put("images", meta);
    const image = new KeptFileImage(o.imageId, o.blockSize, file, db, meta);
    for (const [, index] of await db.getAllKeys("blocks", keptBlocks(o.imageId))) image.kept.add(index);
    return image;
  }

  get complete(): boolean {
    return this.meta.complete;
  }

  async readBlock(index: number): Promise<Uint8Array> {
    const start = index * this.blockSize;
    if (!Number.isInteger(index) || index < 0 || start >= this.size) throw new RangeError(`block ${index} is outside the image`);
    const block = new Uint8Array(await this.file.slice(start, Math.min(this.size, start + this.blockSize)).arrayBuffer());
    this.bytesRead += block.byteLength;
    if (!this.kept.has(index)) void this.store(index, block).catch(() => undefined);
    return block;
  }

  private async store(index: number, block: Uint8Array): Promise<void> {
    await this.db.put("blocks", block.slice().buffer, [this.imageId, index]);
    this.kept.add(index);
  }

  /** Stores every block not kept yet, then marks the image complete. One copy at a time. */
  keepAll(onDone?: (meta: KeptImageMeta) => void): Promise<void> {
    this.copying ??= (async () => {
      const count = blockCountOf(this.size, this.blockSize);
      for (let i = 0; i < count; i++) {
        if (this.kept.has(i)) continue;
        const start = i * this.blockSize;
        await this.store(i, new Uint8Array(await this.file.slice(start, Math.min(this.size, start + this.blockSize)).arrayBuffer()));
      }
      this.meta.complete = true;
      await this.db.put("images", this.meta);
      onDone?.(this.meta);
    })();
    return this.copying;
  }

  stats(): BaseImageStats {
    return { imageSize: this.size, bytesFetched: 0, bytesFromCache: this.bytesRead, requests: 0, blocksCached: this.kept.size };
  }
}

/** Opens where a kept image's missing blocks come from (a share's objects), checked against `meta.hashes`. */
export type RemoteBlocks = (meta: KeptImageMeta) => Promise<BlockSource>;

/** A kept image, read from IndexedDB alone (no file: after a reload). */
export class StoredImage implements BlockSource {
  readonly imageId: string;
  readonly size: number;
  readonly blockSize: number;
  private bytesRead = 0;

  private constructor(
    public meta: KeptImageMeta,
    private readonly db: ImageDb,
  ) {
    this.imageId = meta.id;
    this.size = meta.size;
    this.blockSize = meta.blockSize;
  }

  /**
   * `fromShare`: the reader of an image a share link carried as objects (src/share/image-blocks.ts,
   * injected: the disk module does not know the share scheme); without it such an image opens
   * only once complete.
   */
  static async open(id: string, db?: ImageDb, fromShare?: RemoteBlocks): Promise<StoredImage> {
    const images = db ?? (await openImageDb());
    const meta = await images.get("images", id);
    if (!meta) throw new Snap86Error("image-invalid", "This image is no longer kept in this browser: choose its file again");
    const image = new StoredImage(meta, images);
    if (!meta.complete && meta.url && meta.hashes) {
      image.remote = await HttpBaseImage.open({ url: meta.url, size: meta.size, sha256: "", identity: meta.id, blockSize: meta.blockSize, blockHashes: { blockSize: meta.blockSize, sha256: meta.hashes }, db: null, maxBlocksPerRequest: 16 });
    } else if (!meta.complete && meta.share && fromShare) image.remote = await fromShare(meta);
    if (!meta.complete && !image.remote) throw new Snap86Error("image-invalid", `${meta.name} was not completely kept in this browser: choose its file again`);
    return image;
  }

  /** Where blocks not kept yet come from (the image's public URL, or a share's objects), verified block by block. */
  private remote: BlockSource | undefined;
  private completing: Promise<void> | undefined;

  /**
   * Keeps every block not kept yet (a few at a time, after the guest's own reads), then marks the
   * image complete: from then on it needs neither its URL nor the store. One run at a time.
   */
  keepAll(onDone?: (meta: KeptImageMeta) => void): Promise<void> {
    const remote = this.remote;
    if (!remote || this.meta.complete) return Promise.resolve();
    this.completing ??= (async () => {
      const count = blockCountOf(this.size, this.blockSize);
      const have = new Set((await this.db.getAllKeys("blocks", keptBlocks(this.imageId))).map(([, index]) => index));
      for (let i = 0; i < count; i++) {
        if (have.has(i)) continue;
        const block = await remote.readBlock(i);
        await this.db.put("blocks", block.slice().buffer, [this.imageId, i]);
      }
      const { share: _share, ...rest } = this.meta;
      const meta: KeptImageMeta = { ...rest, complete: true };
      await this.db.put("images", meta);
      this.meta = meta;
      onDone?.(meta);
    })();
    return this.completing;
  }

  async readBlock(index: number): Promise<Uint8Array> {
    const data = await this.db.get("blocks", [this.imageId, index]);
    if (!data && this.remote) {
      const block = await this.remote.readBlock(index);
      void this.db.put("blocks", block.slice().buffer, [this.imageId, index]).catch(() => undefined); // a cache: a full disk only costs refetches
      this.bytesRead += block.byteLength;
      return block;
    }
    if (!data) throw new BaseImageError("short-read", `block ${index} of the kept image ${this.meta.name} is missing`, this.meta.name, index);
    this.bytesRead += data.byteLength;
    return new Uint8Array(data);
  }

  stats(): BaseImageStats {
    return { imageSize: this.size, bytesFetched: 0, bytesFromCache: this.bytesRead, requests: 0, blocksCached: blockCountOf(this.size, this.blockSize) };
  }
}
