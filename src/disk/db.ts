/**
 * The IndexedDB schema shared by the disk modules (one database, three stores):
 * - `layers`: LayerMeta by id.
 * - `blocks`: overlay blocks, key [layerId, blockIndex], value ArrayBuffer of exactly blockSize bytes.
 * - `baseCache`: verified base-image blocks (the host cache), key [url#sha256, blockIndex], so a new image
 *   never reads stale blocks of an old one.
 * Array keys keep each layer's (and each image's) blocks contiguous, so range queries and chunked deletes are cheap.
 */
import { openDB, type DBSchema, type IDBPDatabase } from "idb";

export interface LayerMeta {
  id: string;
  /** Layer this one reads through to; null means the base image. */
  parent: string | null;
  /** A frozen layer never changes again (checkpoints and golden layers are frozen). */
  frozen: boolean;
  created: number;
  /** Blocks stored in this layer (not counting ancestors). */
  blockCount: number;
  bytes: number;
  /** Base image the chain ends at (`sha256:<hex>` for a published image, or a local file's identity). */
  imageId: string;
  blockSize: number;
  /** Free-form label for the UI ("golden", "checkpoint 3", ...). */
  label?: string;
}

export interface DiskDbSchema extends DBSchema {
  layers: { key: string; value: LayerMeta };
  blocks: { key: [string, number]; value: ArrayBuffer };
  baseCache: { key: [string, number]; value: ArrayBuffer };
}

export type DiskDb = IDBPDatabase<DiskDbSchema>;

export const DEFAULT_DB_NAME = "snap86-disk";

export function openDiskDb(name: string = DEFAULT_DB_NAME): Promise<DiskDb> {
  return openDB<DiskDbSchema>(name, 1, {
    upgrade(db) {
      db.createObjectStore("layers", { keyPath: "id" });
      db.createObjectStore("blocks");
      db.createObjectStore("baseCache");
    },
  });
}

/** All keys of one layer/image: [id, 0] .. [id, +inf]. */
export function blockRange(id: string): IDBKeyRange {
  return IDBKeyRange.bound([id, 0], [id, Infinity]);
}
