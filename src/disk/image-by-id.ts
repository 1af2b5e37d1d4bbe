/**
 * A user's image opened from its id alone, away from the machine that runs it (the
 * checkpoint-I/O worker reads every block of a drive to share or export it):
 * - a copy kept in this browser (a picked file, or an image a share link or a .snap86 file brought);
 * - `url:<url>#<size>#<Last-Modified>#<sha256 of block 0>`: read by Range from the URL again, the
 *   host cache first, block 0 checked against the id (so a changed file is refused).
 * Anything else (bytes handed to the API, a URL whose server sent the whole file) is not at hand.
 */
import { HttpBaseImage, sha256Hex, type BlockSource } from "./base-image";
import type { DiskDb } from "./db";
import { StoredImage, type RemoteBlocks } from "./kept-file";
import { openImageDb } from "../storage/image-db";
import { Snap86Error } from "../protocol/errors";

/** Block size of every user image (src/emulator/user-drives.ts). */
export const USER_IMAGE_BLOCK_SIZE = 64 * 1024;

const URL_ID = /^url:(.+)#(\d+)#([^#]*)#([0-9a-f]{64})$/;

/** The URL a `url:` image id names, or null for any other id. */
export function urlOfImageId(imageId: string): string | null {
  return URL_ID.exec(imageId)?.[1] ?? null;
}

/** The last path segment of a URL (what the page calls the image). */
export function nameOfUrl(url: string): string {
  return decodeURIComponent(new URL(url, globalThis.location?.href ?? "http://localhost/").pathname.split("/").pop() || "image");
}

export interface ImageAtHand {
  source: BlockSource;
  name: string;
  /** The image's public URL when it was read from one (a share may name it instead of uploading it). */
  url: string | null;
}

/** `fromShare`: reads the missing blocks of an image a share link brought (see StoredImage.open). */
export async function openImageById(imageId: string, hostCache: DiskDb | null, fromShare?: RemoteBlocks): Promise<ImageAtHand> {
  const images = await openImageDb();
  const kept = await images.get("images", imageId);
  if (kept && (kept.complete || kept.url || (kept.share && fromShare))) {
    return { source: await StoredImage.open(imageId, images, fromShare), name: kept.name, url: kept.url ?? urlOfImageId(imageId) };
  }
  const parsed = URL_ID.exec(imageId);
  if (parsed) {
    const [, url, size, validator, head] = parsed;
    const source = await HttpBaseImage.open({ url, size: Number(size), sha256: "", identity: imageId, blockSize: USER_IMAGE_BLOCK_SIZE, db: validator ? hostCache : null, maxBlocksPerRequest: 16 });
    if ((await sha256Hex(await source.readBlock(0))) !== head) throw new Snap86Error("image-corrupt", `The image at ${url} changed since this checkpoint was taken`);
    return { source, name: nameOfUrl(url), url };
  }
  const name = imageId.replace(/^file:/, "").split("#")[0];
  if (imageId.startsWith("file:")) throw new Snap86Error("unsupported", `${name} is not completely kept in this browser yet: wait until it is listed under Kept images, then try again`);
  throw new Snap86Error("unsupported", "This machine's image was handed over as bytes (or by a server that sends only whole files), so it is not at hand to send along: boot it from a file or a URL with Range");
}
