/** The data shapes and pure helpers of overlay.ts (the copy-on-write layer), kept apart to keep it short. */
import type { LayerChain } from "./chain";
import type { LayerMeta } from "./db";
import type { StorageFullError } from "./errors";
import type { LayerStore } from "./layer-store";

export interface OverlayOptions {
  /** The layer this overlay writes to. Its ancestors are in `chain`. */
  layer: LayerMeta;
  chain: LayerChain;
  /** null: secure session, memory only. */
  store: LayerStore | null;
  /** Blocks of `layer` already in IndexedDB. */
  persisted?: Iterable<number>;
  readOnly?: boolean;
  /** Above this many unflushed bytes, flush at once and ask writers to wait. Default 32 MiB. */
  dirtyLimitBytes?: number;
  /** Clean blocks kept in memory for fast rereads (and synchronous `readSync`). Default 16 MiB. */
  cacheBytes?: number;
  /** Write-behind delay. Default 1000 ms. */
  flushDelayMs?: number;
  /** Delay before retrying after IndexedDB said it is full. Default 30 s. */
  retryDelayMs?: number;
  /** Blocks per IndexedDB transaction. Default 64. */
  flushBatchBlocks?: number;
  onStorageFull?: (e: StorageFullError) => void;
  /** A background flush failed for another reason (the next flush retries). */
  onFlushError?: (e: unknown) => void;
  /** Called once by close(), e.g. to release the layer's Web Lock. */
  onClose?: () => void;
  /**
   * Clean blocks to start with, least recently used first: those of the overlay this one continues
   * (a checkpoint froze it and this layer is its child, so they read the same). Without them every
   * session save, once a second, would leave the guest with a cold disk cache.
   */
  warm?: Iterable<readonly [number, Uint8Array]>;
}

export interface OverlayStats {
  layerId: string;
  secure: boolean;
  /** Blocks this layer owns (in IndexedDB or still in memory). */
  blocks: number;
  bytes: number;
  dirtyBlocks: number;
  dirtyBytes: number;
  /** Bytes of block data held in memory (dirty and cached). */
  memoryBytes: number;
  storageFull: boolean;
}

export interface Entry {
  /** The whole block; null while pending (waiting for the block from below). */
  data: Uint8Array | null;
  /** Writes made while pending, applied in order onto the block from below. */
  log: Array<[offset: number, bytes: Uint8Array]>;
  fill: Promise<Uint8Array> | null;
  dirty: boolean;
  /** Being written to IndexedDB: must not be evicted even though `dirty` was already cleared. */
  flushing: number;
}

export function checkRange(size: number, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > size) {
    throw new RangeError(`disk access [${offset}, ${offset + length}) is outside the disk (${size} bytes)`);
  }
}

/** Calls `fn` for each block-sized piece of [offset, offset + length). */
export function forEachPiece(blockSize: number, offset: number, length: number, fn: (index: number, inBlock: number, pos: number, n: number) => void): void {
  let pos = 0;
  while (pos < length) {
    const abs = offset + pos;
    const index = Math.floor(abs / blockSize);
    const inBlock = abs - index * blockSize;
    const n = Math.min(blockSize - inBlock, length - pos);
    fn(index, inBlock, pos, n);
    pos += n;
  }
}

/** The metadata of a memory-only layer (secure session): never stored, so any unique id does. */
export function secureLayerMeta(base: { imageId: string; blockSize: number }, parentId: string | null): LayerMeta {
  return {
    id: `secure-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
    parent: parentId,
    frozen: false,
    created: Date.now(),
    blockCount: 0,
    bytes: 0,
    imageId: base.imageId,
    blockSize: base.blockSize,
    label: "secure session",
  };
}

/** Drops least recently used clean blocks beyond `cacheLimit` (Map order is LRU order). Dirty and pending blocks stay. */
export function evictClean(entries: Map<number, Entry>, dirtyCount: number, blockSize: number, cacheLimit: number): void {
  let clean = (entries.size - dirtyCount) * blockSize;
  if (clean <= cacheLimit) return;
  for (const [index, e] of entries) {
    if (clean <= cacheLimit) break;
    // Dirty blocks stay (in a secure overlay they stay dirty for good: memory is their only home).
    if (e.dirty || e.flushing > 0 || !e.data || e.fill) continue;
    entries.delete(index);
    clean -= blockSize;
  }
}
