/**
 * What a share link's envelope holds for the app (the checkpoint manifest, its flattened disk
 * layer, sizes) and the strict validator every opened envelope goes through: the envelope comes
 * from a store that may be hostile, so anything not exactly this shape is refused.
 */
import type { CheckpointManifest } from "../protocol/checkpoint-data";
import type { ChunkCodec } from "../checkpoint/codec";
import { decodeManifest } from "../checkpoint/manifest";
import type { BaseImageIdentity, CheckpointValidator } from "./manifest-codec";

/** The frozen disk layer of a shared checkpoint, flattened: block index → content hash. */
export interface SharedDisk {
  layerId: string;
  imageId: string;
  blockSize: number;
  blocks: Array<[number, string]>;
}

/** What the share envelope's `checkpoint` field holds for the app. */
export interface SharedCheckpoint {
  manifest: CheckpointManifest;
  disk: SharedDisk | null;
  /** Sealed bytes of all objects, only so the opening side can show "3.2 of 12 MiB". */
  sealedBytes: number;
  /**
   * A user's machine (envelope version 3): the frozen layer of every writable drive, in the
   * manifest's `driveLayers` order (`disk` is the first of them).
   */
  drives?: SharedDisk[];
}

export const CODEC_IDS: Record<ChunkCodec, number> = { raw: 0, zstd: 1 };
export const CODEC_BY_ID: readonly ChunkCodec[] = ["raw", "zstd"];
import { MAX_DISK_BYTES } from "../checkpoint/disk-sections";
const HASH_RE = /^[0-9a-f]{64}$/;
const SHARED_KEYS = ["disk", "manifest", "sealedBytes"];
const SHARED_KEYS_WITH_DRIVES = ["disk", "drives", "manifest", "sealedBytes"];
const DISK_KEYS = ["blockSize", "blocks", "imageId", "layerId"];
const MAX_BLOCK_SIZE = 16 * 1024 * 1024;

export const imageIdOf = (base: BaseImageIdentity): string => `sha256:${base.sha256}`;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const hasExactly = (o: Record<string, unknown>, keys: readonly string[]): boolean => {
  const own = Object.keys(o).sort();
  return own.length === keys.length && own.every((k, i) => k === keys[i]);
};

/** Strict validator for untrusted envelopes; the checkpoint manifest goes through decodeManifest. */
export const isSharedCheckpoint: CheckpointValidator<SharedCheckpoint> = (value): value is SharedCheckpoint => {
  if (!isRecord(value) || !(hasExactly(value, SHARED_KEYS) || hasExactly(value, SHARED_KEYS_WITH_DRIVES))) return false;
  const manifest = decodeManifest(value.manifest); // throws on anything invalid: the codec treats that as "no"
  if (!Number.isSafeInteger(value.sealedBytes) || (value.sealedBytes as number) < 0) return false;
  if (value.drives !== undefined) {
    const layers = manifest.driveLayers ?? [];
    const drives = value.drives;
    if (!Array.isArray(drives) || drives.length !== layers.length) return false;
    if (!drives.every((d: unknown, i) => isSharedDisk(d, layers[i].diskLayerId))) return false;
    if (drives.length > 0 && JSON.stringify(drives[0]) !== JSON.stringify(value.disk)) return false;
  }
  if (value.disk === null) return manifest.diskLayerId === null;
  return isSharedDisk(value.disk, manifest.diskLayerId);
};

function isSharedDisk(disk: unknown, layerId: string | null): disk is SharedDisk {
  if (!isRecord(disk) || !hasExactly(disk, DISK_KEYS)) return false;
  if (disk.layerId !== layerId || typeof disk.imageId !== "string") return false;
  const blockSize = disk.blockSize;
  if (typeof blockSize !== "number" || !Number.isInteger(blockSize) || blockSize < 512 || blockSize > MAX_BLOCK_SIZE || (blockSize & (blockSize - 1)) !== 0) return false;
  if (!Array.isArray(disk.blocks)) return false;
  const seen = new Set<number>();
  for (const entry of disk.blocks as unknown[]) {
    if (!Array.isArray(entry) || entry.length !== 2) return false;
    const [index, hash] = entry as unknown[];
    if (!Number.isSafeInteger(index) || (index as number) < 0 || seen.has(index as number)) return false;
    // An index past any disk would be stored, then break the guest's first flush of its batch.
    if (((index as number) + 1) * blockSize > MAX_DISK_BYTES) return false;
    if (typeof hash !== "string" || !HASH_RE.test(hash)) return false;
    seen.add(index as number);
  }
  return true;
}
