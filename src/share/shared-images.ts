/**
 * The drives of a user's machine in a share envelope (format 3, docs/sharing.md): each image by
 * its identity (the id the checkpoint names, size, block size and every block's sha256) and how
 * the opener gets its blocks: uploaded as sealed objects like chunks (`url: null`), or read from
 * the image's public URL, each block checked against its hash.
 */
import { SHA256_HEX } from "./encoding";

export type SharedDriveKind = "fda" | "hda" | "cdrom";

export interface SharedImage {
  readonly kind: SharedDriveKind;
  /** The base-image id the checkpoint's drives and disk layers name. */
  readonly imageId: string;
  /** What the page calls it (a file name, a URL's last segment). */
  readonly name: string;
  readonly size: number;
  readonly blockSize: number;
  /** sha256 of every block in order (the last block may be shorter than blockSize). */
  readonly blocks: readonly string[];
  /** null: the blocks are objects of the share; else the public URL the opener reads them from. */
  readonly url: string | null;
}

/** How a share carries a URL image: its blocks uploaded (the default), or its URL. File images are always uploaded. */
export type ImageBy = "upload" | "url";

const KEYS = ["blockSize", "blocks", "imageId", "kind", "name", "size", "url"];
const KINDS: readonly string[] = ["fda", "hda", "cdrom"];
const MAX_TEXT = 4096;
/** A manifest is at most 8 MiB: 64 KiB blocks of a 4 GiB image are 65536 hashes (4.3 MiB of JSON). */
const MAX_BLOCKS = 100_000;
const MAX_IMAGES = 3;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const text = (v: unknown): v is string => typeof v === "string" && v.length > 0 && v.length <= MAX_TEXT;

/** Strict check of untrusted input; every uploaded block must be in the object map. */
export function validateImages(value: unknown, objects: Readonly<Record<string, string>>): SharedImage[] | undefined {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_IMAGES) return undefined;
  const out: SharedImage[] = [];
  for (const item of value as unknown[]) {
    if (!isRecord(item)) return undefined;
    const keys = Object.keys(item).sort();
    if (keys.length !== KEYS.length || keys.some((k, i) => k !== KEYS[i])) return undefined;
    const { kind, imageId, name, size, blockSize, blocks, url } = item;
    if (typeof kind !== "string" || !KINDS.includes(kind) || !text(imageId) || !text(name)) return undefined;
    if (typeof blockSize !== "number" || !Number.isInteger(blockSize) || blockSize < 512 || blockSize > 16 * 1024 * 1024 || (blockSize & (blockSize - 1)) !== 0) return undefined;
    if (typeof size !== "number" || !Number.isSafeInteger(size) || size <= 0) return undefined;
    if (!Array.isArray(blocks) || blocks.length > MAX_BLOCKS || blocks.length !== Math.ceil(size / blockSize)) return undefined;
    if (!blocks.every((h) => typeof h === "string" && SHA256_HEX.test(h))) return undefined;
    if (url !== null && !(text(url) && /^https?:\/\//.test(url))) return undefined;
    if (url === null && !(blocks as string[]).every((h) => Object.hasOwn(objects, h))) return undefined;
    out.push({ kind: kind as SharedDriveKind, imageId, name, size, blockSize, blocks: blocks as string[], url });
  }
  return out;
}
