/**
 * The page's view of every database. Workers do the reading and writing; the page holds one idle
 * connection to each database so that it hears, through database.ts, when another tab opens a
 * newer version (all connections of the origin get that event) and can tell the user. Opening
 * here also runs a pending upgrade before the workers need the database.
 */
import { openDatabase } from "./database";
import { onStorageNotice, type StorageNotice } from "./notices";
import { CHECKPOINT_DB } from "./checkpoint-db";
import { DISK_DB } from "./disk-db";
import { SHARE_KEY_DB } from "./share-key-db";
import { WORKING_SET_DB } from "./working-set-db";

/** Every database snap86 keeps (docs/versioning.md lists their versions). */
export const DATABASES = [DISK_DB, CHECKPOINT_DB, SHARE_KEY_DB, WORKING_SET_DB] as const;

/** Calls `onNotice` for what this tab's databases go through; resolves once all are open. */
export async function watchDatabases(onNotice: (notice: StorageNotice) => void): Promise<void> {
  onStorageNotice(onNotice);
  // A database that fails to open here is reported by the worker that needs it, as before.
  await Promise.allSettled([openDatabase(DISK_DB), openDatabase(CHECKPOINT_DB), openDatabase(SHARE_KEY_DB), openDatabase(WORKING_SET_DB)]);
}
