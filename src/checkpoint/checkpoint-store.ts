/**
 * Checkpoints in the chunk store: its records are checkpoint manifests, validated on every read
 * (the database is shared with every tab and older app versions) and committed only once every
 * chunk they name is stored. The chunk store (store.ts) knows chunks and opaque records; which
 * chunks a manifest names, and what makes one valid, is the format's (manifest.ts).
 */
import { openCheckpointDb } from "../storage/checkpoint-db";
import { decodeManifest, manifestChunkHashes, type CheckpointManifest } from "./manifest";
import { ChunkStore, type ChunkMeta } from "./store";

export class CheckpointStore extends ChunkStore<CheckpointManifest> {
  static async open(name?: string): Promise<CheckpointStore> {
    return new CheckpointStore(await openCheckpointDb<CheckpointManifest, ChunkMeta>(name));
  }

  /** Lists the checkpoint: only if every chunk it names is stored; ends the pending write. */
  commitManifest(manifest: CheckpointManifest, writeId?: string): Promise<void> {
    return this.commitRecord(manifest.id, manifest, manifestChunkHashes(manifest), writeId);
  }

  async getManifest(id: string): Promise<CheckpointManifest | undefined> {
    const m = await this.getRecord(id);
    return m === undefined ? undefined : decodeManifest(m);
  }

  async listManifests(): Promise<CheckpointManifest[]> {
    const all = await this.listRecords();
    return all.map((m) => decodeManifest(m)).sort((a, b) => a.created - b.created);
  }

  async putManifestLabel(id: string, label: string): Promise<void> {
    const found = await this.updateRecord(id, (m) => decodeManifest({ ...m, label }));
    if (!found) throw new Error(`Checkpoint ${id} does not exist in this browser (deleted, or saved in another browser profile)`);
  }
}
