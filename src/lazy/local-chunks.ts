// Decoded RAM images the emulator worker already holds (the golden checkpoint, kept for resets),
// indexed by chunk content hash. Checkpoints of one guest share most of their RAM chunks with
// its golden image (kernel text, page cache of the boot), and content addressing makes "same
// hash" mean "same bytes": a lazy restore takes those from memory instead of IndexedDB.

export interface RamImage {
  /** Full decoded RAM. */
  ram: Uint8Array;
  /** Content hash per chunk (null for zero chunks), as in CheckpointManifest.ram.chunks. */
  chunks: readonly (string | null)[];
  chunkSize: number;
}

export type LocalChunks = (hash: string) => Uint8Array | undefined;

/** A lookup over `images`; a chunk's bytes are a view into the image (copy before keeping). */
export function localChunks(images: readonly RamImage[]): LocalChunks {
  const byHash = new Map<string, Uint8Array>();
  for (const { ram, chunks, chunkSize } of images) {
    chunks.forEach((hash, i) => {
      const start = i * chunkSize;
      if (hash && !byHash.has(hash) && start < ram.byteLength) byHash.set(hash, ram.subarray(start, Math.min(start + chunkSize, ram.byteLength)));
    });
  }
  return (hash) => byHash.get(hash);
}
