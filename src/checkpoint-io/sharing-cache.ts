/**
 * What a checkpoint list needs beyond the manifests, kept between lists: each checkpoint's set
 * of chunk hashes and each chunk's stored size. Neither changes once stored (a manifest's chunk
 * lists cannot be edited, and a chunk is named by its content), so a list reads the sizes of new
 * chunks only. Without it every list read one record per chunk of every checkpoint: with 50
 * checkpoints of a 128 MiB guest, thousands of reads each time the list was refreshed.
 */
import { sharingSizes, type SharingSizes } from "../checkpoint/dedup-sizes";
import { manifestChunkHashes, type CheckpointManifest } from "../checkpoint/manifest";

export interface SizeSource {
  storedSizes(hashes: Iterable<string>): Promise<Map<string, number>>;
}

export class SharingCache {
  readonly #hashesOf = new Map<string, Set<string>>();
  readonly #sizeOf = new Map<string, number>();

  /** Own and shared bytes of each of `manifests` (the store's current set). */
  async sizes(store: SizeSource, manifests: readonly CheckpointManifest[]): Promise<Map<string, SharingSizes>> {
    const referenced = new Set<string>();
    const live = new Set<string>();
    for (const m of manifests) {
      live.add(m.id);
      let hashes = this.#hashesOf.get(m.id);
      if (!hashes) this.#hashesOf.set(m.id, (hashes = manifestChunkHashes(m)));
      for (const h of hashes) referenced.add(h);
    }
    // Forget what is gone: a chunk collected and stored again later is read afresh.
    for (const id of this.#hashesOf.keys()) if (!live.has(id)) this.#hashesOf.delete(id);
    for (const h of this.#sizeOf.keys()) if (!referenced.has(h)) this.#sizeOf.delete(h);
    const unknown = [...referenced].filter((h) => !this.#sizeOf.has(h));
    if (unknown.length > 0) {
      const read = await store.storedSizes(unknown);
      // A chunk not stored (yet) is not cached: it is asked for again next time.
      for (const [h, size] of read) this.#sizeOf.set(h, size);
    }
    return sharingSizes(manifests, this.#sizeOf);
  }
}
