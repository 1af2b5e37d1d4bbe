/**
 * Database "snap86-lazy" (src/worker/lazy/working-set-store.ts): the RAM pages each checkpoint's
 * guest touched first, by checkpoint id. Hints only: losing one costs prefetch order, never data.
 */
import type { DBSchema, IDBPDatabase } from "idb";
import { openDatabase, type DatabaseSchema } from "./database";

export interface WorkingSetDbSchema extends DBSchema {
  workingSets: { key: string; value: { pages: number[]; updated: number } };
}

export type WorkingSetDb = IDBPDatabase<WorkingSetDbSchema>;

export const WORKING_SET_DB: DatabaseSchema<WorkingSetDbSchema> = {
  name: "snap86-lazy",
  migrations: [
    // 0 → 1: records of chunk indices.
    (db) => {
      db.createObjectStore("workingSets");
    },
    // 1 → 2: records of page indices. Chunk hints cannot be turned into pages (the chunk size
    // is the checkpoint's), and they are only hints: dropped.
    (db) => {
      db.deleteObjectStore("workingSets");
      db.createObjectStore("workingSets");
    },
  ],
};

export function openWorkingSetDb(name: string = WORKING_SET_DB.name): Promise<WorkingSetDb> {
  return openDatabase(WORKING_SET_DB, name);
}
