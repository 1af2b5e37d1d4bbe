/**
 * The disk modules' database ("snap86-disk"): its schema, version and upgrades are owned by
 * src/storage/disk-db.ts; this module keeps the names the disk code has always imported.
 */
export { openDiskDb, storageOf, type DiskDb, type DiskDbSchema, type LayerMeta } from "../storage/disk-db";

/** All keys of one layer/image: [id, 0] .. [id, +inf]. */
export function blockRange(id: string): IDBKeyRange {
  return IDBKeyRange.bound([id, 0], [id, Infinity]);
}
