/** Housekeeping of the base-image host cache: blocks of images no longer used are dead weight. */
import { blockRange, type DiskDb } from "./db";

/** Deletes cached blocks of every image whose cache id (url#sha256) is not in `keep`. Returns the ids dropped. */
export async function pruneHostCache(db: DiskDb, keep: readonly string[]): Promise<string[]> {
  const keepSet = new Set(keep);
  const drop: string[] = [];
  let cursor = await db.transaction("baseCache").store.openKeyCursor();
  while (cursor) {
    const [id] = cursor.key;
    if (!keepSet.has(id)) drop.push(id);
    // Jump to the next image's key range.
    cursor = await cursor.continue([id, Infinity]);
  }
  for (const id of drop) await db.delete("baseCache", blockRange(id));
  return drop;
}
