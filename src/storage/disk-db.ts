/**
 * Database "snap86-disk" (src/disk/): one database, three stores.
 * - `layers`: LayerMeta by id.
 * - `blocks`: overlay blocks, key [storage, blockIndex], value ArrayBuffer of exactly blockSize bytes.
 *   `storage` is the layer's id, or, for a layer an older one was committed into, the key its
 *   blocks live under (LayerMeta.storage): one layer per storage key at any time.
 * - `baseCache`: verified base-image blocks (the host cache), key [url#sha256, blockIndex], so a new image
 *   never reads stale blocks of an old one.
 * Array keys keep each layer's (and each image's) blocks contiguous, so range queries and chunked deletes are cheap.
 */
import type { DBSchema, IDBPDatabase } from "idb";
import { openDatabase, type DatabaseSchema } from "./database";

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
  /**
   * Key of this layer's blocks when it is not its id: set when the layer was committed into its
   * parent's storage (LayerStore.commitIntoParent), which keeps the layer's id (checkpoints name it)
   * and takes the parent's blocks. Since version 2.
   */
  storage?: string;
}

/** Where a layer's blocks are stored: key prefix in `blocks`. */
export function storageOf(meta: Pick<LayerMeta, "id" | "storage">): string {
  return meta.storage ?? meta.id;
}

export interface DiskDbSchema extends DBSchema {
  layers: { key: string; value: LayerMeta };
  blocks: { key: [string, number]; value: ArrayBuffer };
  baseCache: { key: [string, number]; value: ArrayBuffer };
}

export type DiskDb = IDBPDatabase<DiskDbSchema>;

export const DISK_DB: DatabaseSchema<DiskDbSchema> = {
  name: "snap86-disk",
  migrations: [
    // 0 → 1: the layout since the first release.
    (db) => {
      db.createObjectStore("layers", { keyPath: "id" });
      db.createObjectStore("blocks");
      db.createObjectStore("baseCache");
    },
    // 1 → 2: no record changes. A layer may now keep its blocks under another key (LayerMeta.storage,
    // continuous session saves commit layers into their parent); a build that predates this would
    // look for them under the layer's id and find none, so it must refuse the database instead.
    () => undefined,
  ],
};

export function openDiskDb(name: string = DISK_DB.name): Promise<DiskDb> {
  return openDatabase(DISK_DB, name);
}
