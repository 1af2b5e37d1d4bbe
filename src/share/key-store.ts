import { openShareKeyDb, type ShareKeyDb } from "../storage/share-key-db";
import { SHARE_KEY_BYTES } from "./crypto";

/**
 * The share key of every checkpoint this browser has shared (database "snap86-shares"), so
 * sharing a checkpoint again seals to the same objects and the same link: nothing is uploaded.
 * Only the sharer's own keys live here; keys of opened links stay in the links.
 */
export class ShareKeyStore {
  private constructor(private readonly db: ShareKeyDb) {}

  static async open(name?: string): Promise<ShareKeyStore> {
    return new ShareKeyStore(await openShareKeyDb(name));
  }

  async get(checkpointId: string): Promise<Uint8Array | undefined> {
    const entry = await this.db.get("keys", checkpointId);
    // A record of the wrong size is ignored (a fresh key is made), never used half-broken.
    return entry && entry.key.byteLength === SHARE_KEY_BYTES ? new Uint8Array(entry.key) : undefined;
  }

  async put(checkpointId: string, key: Uint8Array): Promise<void> {
    await this.db.put("keys", { key: key.slice().buffer, created: Date.now() }, checkpointId);
  }

  async delete(checkpointId: string): Promise<void> {
    await this.db.delete("keys", checkpointId);
  }

  close(): void {
    this.db.close();
  }
}
