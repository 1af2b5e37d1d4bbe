// Where the loader worker gets RAM chunks from: the local IndexedDB store, or a share link
// (network, encrypted; share/remote-ram-source.ts) behind the same interface.
import type { CheckpointManifest } from "../protocol/checkpoint-data";

/** Some pages of a chunk: `bytes` is chunk-sized, page k valid where bit k of `pages` is set. */
export interface PartialChunk {
  bytes: Uint8Array;
  pages: number;
}

/** Pages that arrived ahead of their chunks (a share's pack): `data` holds page k at k × 4096. */
export type PackPagesListener = (pages: readonly number[], data: Uint8Array) => void;

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
  /** Pages of chunk `index` already here (including `page`), so a fault on `page` needs no read. */
  partial?(index: number, page: number): PartialChunk | undefined;
  /** Pages that come ahead of their chunks; the loader passes them on to the emulator. */
  onPackPages?(listener: PackPagesListener): void;
  /** Settles once every page that comes ahead was passed to the listener (or the pack failed or stalled). */
  packStreamed?(): Promise<void>;
}

/**
 * What lazy restore needs of the local checkpoint store: the chunk store implements it
 * (src/checkpoint/store.ts), the loader worker's entry passes it in, so this folder never
 * reaches into how chunks are stored, decoded or verified.
 */
export interface ChunkReader {
  /**
   * Decoded chunks, each checked against its content hash (and its length, where given), in one
   * read; rejects naming `checkpointId` if one is missing or damaged.
   */
  readVerified(hashes: readonly string[], checkpointId: string, lengths?: readonly number[]): Promise<Uint8Array[]>;
  /** Keeps `hashes` from garbage collection until the returned release is called. */
  pin(pinId: string, hashes: Iterable<string>): Promise<() => Promise<void>>;
}

/** Chunks of one checkpoint in the local store. */
export class StoreChunkSource implements ChunkSource {
  constructor(
    private readonly store: ChunkReader,
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
    return this.store.readVerified(hashes, this.manifest.id, indices.map((i) => this.#length(i)));
  }
}

/**
 * Decoded chunks by content hash, kept across restores in the loader worker: restoring the same
 * checkpoint again (a test suite resetting to it, a user going back and forth) finds its working
 * set in memory instead of IndexedDB. Least recently used chunks go first.
 */
export class DecodedChunkCache {
  readonly #chunks = new Map<string, Uint8Array>();
  #bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get(hash: string): Uint8Array | undefined {
    const bytes = this.#chunks.get(hash);
    if (bytes) {
      this.#chunks.delete(hash);
      this.#chunks.set(hash, bytes);
    }
    return bytes;
  }

  put(hash: string, bytes: Uint8Array): void {
    if (this.#chunks.has(hash) || bytes.byteLength > this.maxBytes) return;
    this.#chunks.set(hash, bytes);
    this.#bytes += bytes.byteLength;
    for (const [oldest, old] of this.#chunks) {
      if (this.#bytes <= this.maxBytes) break;
      this.#chunks.delete(oldest);
      this.#bytes -= old.byteLength;
    }
  }
}

/** `source` with `cache` in front (chunks of `manifest`, looked up by hash). */
export function cachedChunkSource(source: ChunkSource, manifest: Pick<CheckpointManifest, "ram">, cache: DecodedChunkCache): ChunkSource {
  const hashOf = (index: number): string | null => manifest.ram.chunks[index] ?? null;
  const readMany = async (indices: readonly number[]): Promise<Uint8Array[]> => {
    const out: Array<Uint8Array | undefined> = indices.map((i) => {
      const h = hashOf(i);
      return h ? cache.get(h) : undefined;
    });
    const missing = indices.filter((_, k) => !out[k]);
    if (missing.length > 0) {
      const read = await source.readMany(missing);
      let next = 0;
      indices.forEach((index, k) => {
        if (out[k]) return;
        const bytes = read[next++];
        out[k] = bytes;
        const h = hashOf(index);
        if (h) cache.put(h, bytes);
      });
    }
    return out as Uint8Array[];
  };
  return {
    readMany,
    read: async (index) => (await readMany([index]))[0],
    ...(source.demandBypassesPrefetch ? { demandBypassesPrefetch: true } : {}),
  };
}
