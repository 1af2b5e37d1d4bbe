// Decoded RAM images the emulator worker already holds (the golden checkpoint, kept for resets),
// indexed by chunk content hash. Checkpoints of one guest share most of their RAM chunks with
// its golden image (kernel text, page cache of the boot), and content addressing makes "same
// hash" mean "same bytes": a lazy restore takes those from memory instead of IndexedDB.

export interface RamImage {
  /** Content hash per chunk (null for zero chunks), as in CheckpointManifest.ram.chunks. */
  chunks: readonly (string | null)[];
  /** Decoded chunk `index` (undefined if the image does not hold it). */
  chunk(index: number): Uint8Array | undefined;
}

export type LocalChunks = (hash: string) => Uint8Array | undefined;

/** A lookup over `images`; a chunk's bytes are a view into the image (copy before keeping). */
export function localChunks(images: readonly RamImage[]): LocalChunks {
  const byHash = new Map<string, Uint8Array>();
  for (const image of images) {
    image.chunks.forEach((hash, i) => {
      if (!hash || byHash.has(hash)) return;
      const bytes = image.chunk(i);
      if (bytes) byHash.set(hash, bytes);
    });
  }
  return (hash) => byHash.get(hash);
}
