/**
 * Checkpoints in the chunk store: its records are checkpoint manifests, validated on every read
 * (the database is shared with every tab and older app versions) and committed only once every
 * chunk they name is stored. The chunk store (store.ts) knows chunks and opaque records; which
 * chunks a manifest names, and what makes one valid, is the format's (manifest.ts).
 */
import { openCheckpointDb } from "../storage/checkpoint-db";
import { decodeManifest, manifestChunkHashes, type CheckpointManifest } from "./manifest";
import { ChunkStore, type ChunkMeta } from "./store";
import { checkpointMissing } from "./errors";
import { Snap86Error } from "../protocol/errors";

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

  /**
   * Edits a stored manifest in one transaction (a catalog operation such as a new label); the
   * result is validated like any manifest read back, so an edit cannot store a broken one. What
   * the chunk store and GC count on (id, chunk lists, disk layer) cannot be edited.
   */
  async updateManifest(id: string, edit: (m: CheckpointManifest) => CheckpointManifest): Promise<void> {
    const found = await this.updateRecord(id, (stored) => {
      const before = decodeManifest(stored);
      const after = decodeManifest(edit(before));
      const same = (["id", "chunkSize", "ram", "deviceState", "diskLayerId"] as const).every((k) => after[k] === before[k] || JSON.stringify(after[k]) === JSON.stringify(before[k]));
      if (!same) throw new Snap86Error("invalid-argument", `an edit of checkpoint ${id} may not change its identity, chunks or disk layer`);
      return after;
    });
    if (!found) throw checkpointMissing(id);
  }
}
