/**
 * The images of a user's machine in a share link (docs/sharing.md, "A user's machine"): the
 * sharer reads every block of each drive's image, hashes it, and either adds it as an object
 * (sealed and deduplicated like chunks: zero blocks and repeats cost one object) or, for an image
 * read from a public URL when the sharer chooses so, names the URL. The opener keeps the image in
 * this browser's image store (src/storage/image-db.ts) under the id the checkpoint names; its
 * blocks are read as the guest needs them (from the store or the URL), each checked against its
 * hash, and kept (src/disk/kept-file.ts).
 */
import { blockCountOf, formatBytes, sha256Hex, StoredImage, type ImageAtHand } from "../disk";
import { openImageDb, type KeptImageMeta, type KeptImageShare } from "../storage/image-db";
import { sharedImageBlocks } from "./image-blocks";
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

/** A drive of the opened machine: its image kept here under the id its checkpoint names. */
export interface ReceivedDrive {
  kind: SharedImage["kind"];
  stored: string;
}

/** What reads an uploaded image's blocks later: the link's keys and object map, and the store. */
export type ShareAccess = Omit<KeptImageShare, "objects"> & { objects: Readonly<Record<string, string>> };

/**
 * Registers every image of a shared machine in this browser before it starts, under the id its
 * checkpoint names, with its block hashes and where its blocks come from: its URL, or the share's
 * objects (with the link's keys, so the blocks can be read on demand, also after a reload). The
 * first block is read and checked at once (a wrong server or a damaged object fails the open
 * before anything runs); the rest as the guest needs them, and in the background until the image
 * is complete (src/disk/kept-file.ts). An image kept before is not registered again.
 */
export async function receiveImages(images: readonly SharedImage[], access: ShareAccess): Promise<ReceivedDrive[]> {
  const db = await openImageDb();
  for (const image of images) {
    const before = await db.get("images", image.imageId);
    const same = before?.hashes?.join() === image.blocks.join();
    if (before && (before.complete || (same && (before.url === image.url || (before.share && image.url === null))))) continue;
    const objects: Record<string, string> = {};
    if (image.url === null) for (const hash of image.blocks) objects[hash] = access.objects[hash];
    const from = image.url !== null ? { url: image.url } : { share: { keys: access.keys, objects, ...(access.store ? { store: access.store } : {}) } };
    const meta: KeptImageMeta = { id: image.imageId, name: image.name, size: image.size, blockSize: image.blockSize, complete: false, created: Date.now(), hashes: [...image.blocks], ...from };
    await db.put("images", meta);
    try {
      await (await StoredImage.open(image.imageId, db, sharedImageBlocks)).readBlock(0);
    } catch (e) {
      const error = asSnap86Error(e);
      if (error.code === "image-corrupt") throw shareErrors.damaged(`${image.url} does not serve the shared image: ${error.message}`);
      throw error;
    }
  }
  return images.map((i) => ({ kind: i.kind, stored: i.imageId }));
}
