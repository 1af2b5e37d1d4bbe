/**
 * Database "snap86-checkpoints" (src/checkpoint/store.ts says how the stores are used):
 * `chunks` (hash → encoded bytes), `chunkMeta` (hash → sizes and codec), `manifests`
 * (id → manifest), `pending` (write id → PendingWrite). What a manifest or a chunk's metadata
 * holds is the checkpoint format's business, not the schema's: the store names those types.
 */
import type { DBSchema, IDBPDatabase } from "idb";
import { openDatabase, type DatabaseSchema } from "./database";

export interface PendingWrite {
  id: string;
  hashes: string[];
  started: number;
}

export interface CheckpointDbSchema<Manifest = unknown, Meta = unknown> extends DBSchema {
  chunks: { key: string; value: ArrayBuffer };
  chunkMeta: { key: string; value: Meta };
  manifests: { key: string; value: Manifest };
  pending: { key: string; value: PendingWrite };
}

export type CheckpointDb<Manifest = unknown, Meta = unknown> = IDBPDatabase<CheckpointDbSchema<Manifest, Meta>>;

export const CHECKPOINT_DB: DatabaseSchema<CheckpointDbSchema> = {
  name: "snap86-checkpoints",
  migrations: [
    // 0 → 1: the layout since the first release.
    (db) => {
      db.createObjectStore("chunks");
      db.createObjectStore("chunkMeta");
      db.createObjectStore("manifests");
      db.createObjectStore("pending");
    },
  ],
};

export function openCheckpointDb<Manifest, Meta>(name: string = CHECKPOINT_DB.name): Promise<CheckpointDb<Manifest, Meta>> {
  // Stores and upgrade steps do not depend on the record types: only the typing does.
  return openDatabase(CHECKPOINT_DB as unknown as DatabaseSchema<CheckpointDbSchema<Manifest, Meta>>, name);
}
