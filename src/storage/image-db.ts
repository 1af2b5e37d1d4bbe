/**
 * Database "snap86-images" (src/disk/kept-file.ts): images the user chose as files, kept so a
 * reload boots them without the file.
 * - `images`: KeptImageMeta by id (the file's identity, also the base-image id its overlays name).
 * - `blocks`: the file's blocks, key [imageId, blockIndex], value ArrayBuffer (the last may be short).
 */
import type { DBSchema, IDBPDatabase } from "idb";
import { openDatabase, type DatabaseSchema } from "./database";

export interface KeptImageMeta {
  id: string;
  name: string;
  size: number;
  blockSize: number;
  /** Every block is stored: the image boots without its file. */
  complete: boolean;
  created: number;
  /**
   * An image a share link or a .snap86 file named by its public URL: blocks not kept yet are read
   * from there by Range, each checked against `hashes` (sha256 per block) before it is kept.
   */
  url?: string;
  hashes?: string[];
  /**
   * An image a share link carried as objects: blocks not kept yet are fetched from the checkpoint
   * store (`store`, else the app's), decrypted with the link's keys (non-extractable CryptoKeys)
   * and checked against `hashes` before they are kept. Dropped once every block is kept.
   */
  share?: KeptImageShare;
}

export interface KeptImageShare {
  keys: { data: CryptoKey; iv: CryptoKey };
  /** Store name of each of the image's distinct blocks, by its sha256. */
  objects: Record<string, string>;
  store?: string;
}

export interface ImageDbSchema extends DBSchema {
  images: { key: string; value: KeptImageMeta };
  blocks: { key: [string, number]; value: ArrayBuffer };
}

export type ImageDb = IDBPDatabase<ImageDbSchema>;

export const IMAGE_DB: DatabaseSchema<ImageDbSchema> = {
  name: "snap86-images",
  migrations: [
    // 0 → 1: the first layout.
    (db) => {
      db.createObjectStore("images", { keyPath: "id" });
      db.createObjectStore("blocks");
    },
  ],
};

export function openImageDb(name: string = IMAGE_DB.name): Promise<ImageDb> {
  return openDatabase(IMAGE_DB, name);
}

/** All blocks of one kept image: [id, 0] .. [id, +inf]. */
export function keptBlocks(id: string): IDBKeyRange {
  return IDBKeyRange.bound([id, 0], [id, Infinity]);
}

/** Kept images, newest first (the page lists them on every load). */
export async function listKeptImages(db?: ImageDb): Promise<KeptImageMeta[]> {
  // Listing must not create the database: a visitor who never kept a file gets none.
  if (!db && typeof indexedDB !== "undefined" && typeof indexedDB.databases === "function") {
    const names = (await indexedDB.databases()).map((d) => d.name);
    if (!names.includes(IMAGE_DB.name)) return [];
  }
  const images = db ?? (await openImageDb());
  return (await images.getAll("images")).sort((a, b) => b.created - a.created);
}

/** Forgets a kept image and its blocks. */
export async function forgetKeptImage(id: string, db?: ImageDb): Promise<void> {
  const images = db ?? (await openImageDb());
  await images.delete("blocks", keptBlocks(id));
  await images.delete("images", id);
}
