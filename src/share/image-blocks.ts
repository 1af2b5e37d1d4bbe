/**
 * The blocks of an image a share link carried as objects, read lazily by the machine that runs
 * it (src/disk/kept-file.ts StoredImage): a block the guest reads first is fetched from the
 * checkpoint store, checked against its store name, decrypted with the link's keys, decoded and
 * checked against its hash and length, then kept; the rest are fetched in the background.
 */
import type { BaseImageStats, BlockSource } from "../disk";
import type { KeptImageMeta } from "../storage/image-db";
import { Snap86Error } from "../protocol/errors";
import { fetchBlock } from "./checkpoint-share";
import { shareReader, type ShareReader } from "./share-session";
import { StoreClient } from "./store-client";

class SharedImageBlocks implements BlockSource {
  readonly imageId: string;
  readonly size: number;
  readonly blockSize: number;
  private bytesFetched = 0;
  private requests = 0;
  /** Blocks of equal content (zero blocks, mostly) are one object: the last few are reused, not fetched again. */
  private readonly recent = new Map<string, Promise<Uint8Array>>();

  constructor(
    private readonly meta: KeptImageMeta,
    private readonly hashes: readonly string[],
    private readonly reader: ShareReader,
  ) {
    this.imageId = meta.id;
    this.size = meta.size;
    this.blockSize = meta.blockSize;
  }

  async readBlock(index: number): Promise<Uint8Array> {
    const hash = this.hashes[index];
    if (!Number.isInteger(index) || hash === undefined) throw new RangeError(`block ${index} is outside the image`);
    const length = Math.min(this.blockSize, this.size - index * this.blockSize);
    const known = this.recent.get(hash);
    if (known) {
      const raw = await known;
      if (raw.byteLength === length) return raw;
    }
    const fetching = this.fetch(hash, length);
    this.recent.set(hash, fetching);
    fetching.catch(() => this.recent.delete(hash));
    for (const key of this.recent.keys()) if (this.recent.size > 8) this.recent.delete(key);
    return fetching;
  }

  private async fetch(hash: string, length: number): Promise<Uint8Array> {
    // fetchBlock checks the store name, the GCM tag, the frame, the length and the content hash.
    const { raw, sealedBytes } = await fetchBlock(this.reader, hash, this.blockSize, length);
    this.bytesFetched += sealedBytes;
    this.requests++;
    return raw;
  }

  stats(): BaseImageStats {
    return { imageSize: this.size, bytesFetched: this.bytesFetched, bytesFromCache: 0, requests: this.requests, blocksCached: 0 };
  }
}

/** For StoredImage.open: the reader of a kept image's missing blocks from the share that brought it. */
export async function sharedImageBlocks(meta: KeptImageMeta): Promise<BlockSource> {
  const { share, hashes } = meta;
  if (!share || !hashes) throw new Snap86Error("image-invalid", `${meta.name} did not come from a share link`);
  return new SharedImageBlocks(meta, hashes, shareReader(new StoreClient(share.store ? { baseUrl: share.store } : {}), share.keys, { objects: share.objects }));
}
