/**
 * Database "snap86-shares" (src/share/key-store.ts): the share key of every checkpoint this
 * browser has shared, by checkpoint id.
 */
import type { DBSchema, IDBPDatabase } from "idb";
import { openDatabase, type DatabaseSchema } from "./database";

export interface ShareKeyDbSchema extends DBSchema {
  keys: { key: string; value: { key: ArrayBuffer; created: number } };
}

export type ShareKeyDb = IDBPDatabase<ShareKeyDbSchema>;

export const SHARE_KEY_DB: DatabaseSchema<ShareKeyDbSchema> = {
  name: "snap86-shares",
  migrations: [
    // 0 → 1: the layout since the first release.
    (db) => {
      db.createObjectStore("keys");
    },
  ],
};

export function openShareKeyDb(name: string = SHARE_KEY_DB.name): Promise<ShareKeyDb> {
  return openDatabase(SHARE_KEY_DB, name);
}
