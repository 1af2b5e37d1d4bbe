/**
 * The images of a user's machine in a share link (docs/sharing.md, "A user's machine"): the
 * sharer reads every block of each drive's image, hashes it, and either adds it as an object
 * (sealed and deduplicated like chunks: zero blocks and repeats cost one object) or, for an image
 * read from a public URL when the sharer chooses so, names the URL. The opener keeps the image in
 * this browser's image store (src/storage/image-db.ts) under the id the checkpoint names: uploaded
 * blocks are fetched and verified before the machine starts; a URL image's blocks are read from
 * the URL as the guest needs them, each checked against its hash (src/disk/kept-file.ts).
 */
import { forEachLimited } from "../async/for-each-limited";
import { blockCountOf, formatBytes, sha256Hex, StoredImage, type ImageAtHand } from "../disk";
import { openImageDb, type KeptImageMeta } from "../storage/image-db";
import type { CheckpointManifest } from "../protocol/checkpoint-data";
import { asSnap86Error, Snap86Error, throwIfAborted } from "../protocol/errors";
import { shareErrors } from "./errors";
import type { ImageBy, SharedImage } from "./shared-images";

/** Image blocks one link may carry as objects (all drives together); larger images go by URL. */
export const MAX_UPLOAD_IMAGE_BYTES = 256 * 1024 * 1024;

export interface ImageCollector {
  open(imageId: string): Promise<ImageAtHand>;
  /** A block to upload, by its sha256 (called once per distinct block). */
  add(hash: string, bytes: Uint8Array): void;
  /** Blocks read so far, of all images. */
  progress?(done: number, total: number): void;
}

/** Every drive's image of a user's checkpoint, block hashes included. */
export async function collectImages(m: CheckpointManifest, by: ImageBy, c: ImageCollector, signal?: AbortSignal): Promise<SharedImage[]> {
  const drives = m.machine.drives ?? [];
  const opened = await Promise.all(drives.map((d) => c.open(d.imageId)));
  const uploads = opened.map((at) => by === "upload" || at.url === null);
  const uploadBytes = opened.reduce((n, at, i) => n + (uploads[i] ? at.source.size : 0), 0);
  if (uploadBytes > MAX_UPLOAD_IMAGE_BYTES) {
    const byUrl = opened.some((at, i) => uploads[i] && at.url !== null);
    throw new Snap86Error(
      "image-too-large",
      `This machine's image is too large to put in a share link (${formatBytes(uploadBytes)}; at most ${formatBytes(MAX_UPLOAD_IMAGE_BYTES)}): ` +
        (byUrl ? "share it by its URL instead (the opener reads it from there)" : "boot it from a public URL and share it by that URL, or export the checkpoint"),
      { detail: { bytes: uploadBytes, limit: MAX_UPLOAD_IMAGE_BYTES } },
    );
  }
  const total = opened.reduce((n, at) => n + at.source.size, 0);
  let done = 0;
  const seen = new Set<string>();
  const images: SharedImage[] = [];
  for (const [i, at] of opened.entries()) {
    const { source } = at;
    const blocks: string[] = [];
    for (let b = 0; b < blockCountOf(source.size, source.blockSize); b++) {
      throwIfAborted(signal);
      const bytes = await source.readBlock(b);
      const hash = await sha256Hex(bytes);
      blocks.push(hash);
      if (uploads[i] && !seen.has(hash)) {
        seen.add(hash);
        c.add(hash, bytes);
      }
      done += bytes.byteLength;
      c.progress?.(done, total);
    }
    images.push({ kind: drives[i].kind, imageId: drives[i].imageId, name: at.name, size: source.size, blockSize: source.blockSize, blocks, url: uploads[i] ? null : at.url });
  }
  return images;
}

/** The drives of a shared user's machine must be the ones its checkpoint names, in boot order. */
export function imagesMatch(m: CheckpointManifest, images: readonly SharedImage[]): boolean {
  const drives = m.machine.drives ?? [];
  return drives.length === images.length && drives.every((d, i) => d.kind === images[i].kind && d.imageId === images[i].imageId);
}

/** Fetches one uploaded block object: its content, verified against `hash` and `length`. */
export type BlockFetcher = (hash: string, length: number, blockSize: number) => Promise<{ raw: Uint8Array; sealedBytes: number }>;

/** A drive of the opened machine: its image kept here under the id its checkpoint names. */
export interface ReceivedDrive {
  kind: SharedImage["kind"];
  stored: string;
}

/**
 * Makes every image of a shared machine available in this browser before it starts: uploaded
 * blocks fetched, verified and kept; a URL image registered with its hashes and its first block
 * read (and checked) from the URL, the rest on demand. An image kept before is not fetched again.
 */
export async function receiveImages(images: readonly SharedImage[], fetchBlock: BlockFetcher, concurrency: number, signal?: AbortSignal): Promise<ReceivedDrive[]> {
  const db = await openImageDb();
  for (const image of images) {
    const before = await db.get("images", image.imageId);
    const usable = before && (before.complete || (before.url === image.url && before.hashes?.join() === image.blocks.join()));
    if (usable) continue;
    const meta: KeptImageMeta = { id: image.imageId, name: image.name, size: image.size, blockSize: image.blockSize, complete: false, created: Date.now() };
    if (image.url !== null) {
      await db.put("images", { ...meta, url: image.url, hashes: [...image.blocks] });
      try {
        await (await StoredImage.open(image.imageId, db)).readBlock(0);
      } catch (e) {
        const error = asSnap86Error(e);
        if (error.code === "image-corrupt") throw shareErrors.damaged(`${image.url} does not serve the shared image: ${error.message}`);
        throw error;
      }
      continue;
    }
    await db.put("images", meta);
    const at = new Map<string, number[]>();
    image.blocks.forEach((hash, index) => at.set(hash, [...(at.get(hash) ?? []), index]));
    await forEachLimited(
      [...at.keys()],
      concurrency,
      async (hash) => {
        const indices = at.get(hash) ?? [];
        const length = Math.min(image.blockSize, image.size - indices[0] * image.blockSize);
        const { raw } = await fetchBlock(hash, length, image.blockSize);
        if (indices.some((i) => Math.min(image.blockSize, image.size - i * image.blockSize) !== length)) throw shareErrors.damaged(`block ${hash} of ${image.name} has two lengths`);
        for (const index of indices) await db.put("blocks", raw.slice().buffer, [image.imageId, index]);
      },
      signal,
    );
    await db.put("images", { ...meta, complete: true });
  }
  return images.map((i) => ({ kind: i.kind, stored: i.imageId }));
}
