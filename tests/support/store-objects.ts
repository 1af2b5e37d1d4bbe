/** The e2e checkpoint store's objects on disk (tests tamper with them), as playwright.config.ts set it up. */
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";

/** The data dir of the store the preview's /store proxy reaches (set by playwright.config.ts). */
export const storeDir = process.env.SNAP86_TEST_STORE_DIR ?? "";

/** Every stored object's file and its size. */
export async function objectFiles(): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const root = join(storeDir, "objects");
  for (const shard of await readdir(root).catch(() => [])) {
    for (const name of await readdir(join(root, shard))) out.set(join(root, shard, name), (await stat(join(root, shard, name))).size);
  }
  return out;
}
