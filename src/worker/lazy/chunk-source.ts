// Where the loader worker gets RAM chunks from. Today the local IndexedDB store; a share link
// (network, encrypted) can implement the same interface later without touching the fault path.
import type { CheckpointManifest } from "../../checkpoint/manifest";
import { verifyChunk, type CheckpointStore } from "../../checkpoint/store";

export interface ChunkSource {
  /** Decoded and hash-verified bytes of non-zero RAM chunk `index`; rejects naming the checkpoint. */
  read(index: number): Promise<Uint8Array>;
  /** Several chunks at once (one transaction / request): prefetch reads in batches. */
  readMany(indices: readonly number[]): Promise<Uint8Array[]>;
  /**
   * True where prefetch reads queue (a network source with few connections): a fault then reads
   * on its own instead of waiting for a prefetch batch that holds its chunk.
   */
  readonly demandBypassesPrefetch?: boolean;
}

/** Chunks of one checkpoint in the local store. */
export class StoreChunkSource implements ChunkSource {
  constructor(
    private readonly store: CheckpointStore,
    private readonly manifest: CheckpointManifest,
  ) {}

  #hash(index: number): string {
    const hash = this.manifest.ram.chunks[index];
    if (!hash) throw new Error(`RAM chunk ${index} of checkpoint ${this.manifest.id} is zero or out of range: nothing to load`);
    return hash;
  }

  #length(index: number): number {
    const { chunkSize, ram } = this.manifest;
    return Math.min(chunkSize, ram.length - index * chunkSize);
  }

  async read(index: number): Promise<Uint8Array> {
    return (await this.readMany([index]))[0];
  }

  async readMany(indices: readonly number[]): Promise<Uint8Array[]> {
    const hashes = indices.map((i) => this.#hash(i));
    const records = await this.store.getChunkRecords(hashes);
    return Promise.all(records.map((rec, k) => verifyChunk(rec, hashes[k], this.manifest.id, this.#length(indices[k]))));
  }
}
