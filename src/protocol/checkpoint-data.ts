/**
 * The checkpoint data that crosses thread boundaries: the manifest (its rules, validation and
 * encoding are in src/checkpoint/manifest.ts; docs/checkpoint-format.md), capture inputs and
 * progress, catalog summaries and garbage-collection results.
 */

import type { DriveKind } from "./machine-config";

/**
 * The newest manifest format this build writes and reads; it reads every older one too. A
 * manifest says the lowest version that has its fields: a built-in guest's checkpoint is still
 * written as v1 (older builds read it), a user machine's as v2 (docs/versioning.md).
 */
export const FORMAT_VERSION = 2;
export type FormatVersion = 1 | 2;
export type HashAlgorithm = "sha256";
/** Codec of the checkpoint as a whole; single chunks may still be stored "raw" (see store.ts). */
export type ManifestCodec = "zstd";
export type ThumbnailMime = "image/png" | "image/webp" | "image/jpeg";

export interface MachineIdentity {
  memoryBytes: number;
  vgaMemoryBytes: number;
  v86Version: string;
  /**
   * Identity of the booted guest image: guest.json's inputsHash for the built-in guest; for a
   * user's machine `own:` and the SHA-256 of its drives (ownMachineImageId), so every check that
   * compares it (restore, golden, autosave) tells one machine from another.
   */
  guestImageId: string;
  /** A user's machine (format v2): its drives in boot order, each by its base image's id. */
  drives?: MachineDrive[];
}

/** A user's machine's guestImageId (and so its machineKey) starts with this. */
export const OWN_MACHINE_PREFIX = "own:";

/** One name per machine (image, memory, VGA, v86): its checkpoints, session saves and reset point are its own. */
export function machineKey(m: MachineIdentity): string {
  return `${m.guestImageId}/${m.memoryBytes}/${m.vgaMemoryBytes}/${m.v86Version}`;
}

/** Whether a machine key or guest image id is a user's machine's (not the built-in guest's). */
export function isOwnMachine(keyOrImageId: string): boolean {
  return keyOrImageId.startsWith(OWN_MACHINE_PREFIX);
}

/** One drive of a user's machine: the drive it sits in and its base image's id (content or URL id). */
export interface MachineDrive {
  kind: DriveKind;
  imageId: string;
}

/** A writable drive's frozen disk layer at a checkpoint (format v2). */
export interface DriveLayer {
  kind: Exclude<DriveKind, "cdrom">;
  diskLayerId: string;
}

/** A byte range split into chunkSize pieces; null = all-zero piece (not stored). */
export interface ChunkList {
  length: number;
  chunks: (string | null)[];
}

export interface CheckpointSizes {
  /** Guest RAM size. */
  ramBytes: number;
  /** RAM bytes in non-zero chunks (before compression). */
  nonZeroBytes: number;
  /** Compressed bytes of every distinct chunk this checkpoint references (RAM + device state). */
  storedBytes: number;
  /** Compressed bytes this checkpoint added to the store (the rest was already there). */
  newBytes: number;
}

/**
 * What every view of a stored checkpoint has (its manifest, catalog summaries, the page's
 * CheckpointInfo): its place in the tree, its name, its disk and its picture. One declaration,
 * so a field added here reaches every view.
 */
export interface CheckpointRecord {
  id: string;
  /** The checkpoint this one was taken after (tree edges); null for a root. */
  parent: string | null;
  label: string;
  /** Milliseconds since the epoch. */
  created: number;
  /** Frozen disk layer (src/disk) the guest's disk was at; null if the machine had no layered disk. */
  diskLayerId: string | null;
  /**
   * A user's machine (format v2): the frozen layer of every writable drive, the first one being
   * `diskLayerId` too (what single-disk code such as export and garbage collection reads).
   */
  driveLayers?: DriveLayer[];
  thumbnail: { mime: ThumbnailMime; base64: string } | null;
}

export interface CheckpointManifest extends CheckpointRecord {
  formatVersion: FormatVersion;
  machine: MachineIdentity;
  chunkSize: number;
  codec: ManifestCodec;
  hashAlgorithm: HashAlgorithm;
  /** v86 save_state output without RAM (CPU, devices, VGA memory). */
  deviceState: ChunkList;
  /** Guest RAM; chunks.length === ceil(memoryBytes / chunkSize). */
  ram: ChunkList;
  sizes: CheckpointSizes;
}

/** What a capture is told about the checkpoint it writes; the rest of the manifest it computes. */
export interface CaptureMeta extends Omit<CheckpointRecord, "created">, Pick<CheckpointManifest, "machine"> {
  created?: number;
  chunkSize?: number;
}

export type CapturePhase = "hash" | "compress" | "manifest" | "done";

export interface CaptureProgress {
  phase: CapturePhase;
  /** Bytes processed in this phase and the phase's total. */
  done: number;
  total: number;
}

export interface CaptureTimings {
  hashMs: number;
  compressMs: number;
  storeWaitMs: number;
  totalMs: number;
}

/** The subset of navigator.locks GC uses; injected in Node. */
export interface LockManagerLike {
  request<T>(name: string, options: { mode?: "exclusive" | "shared" }, callback: () => Promise<T>): Promise<T>;
}

/** A manifest without its chunk lists: what catalog listings carry across threads. */
export interface CheckpointSummary extends CheckpointRecord, Pick<CheckpointManifest, "machine" | "sizes"> {}

export interface GcOptions {
  locks?: LockManagerLike;
  staleAfterMs?: number;
  now?: number;
  /** Disk layer ids the caller holds for checkpoints; those no manifest names come back in the result. */
  knownDiskLayerIds?: Iterable<string>;
}

export interface GcResult {
  deletedChunks: number;
  freedBytes: number;
  keptChunks: number;
  stalePendingRemoved: number;
  referencedDiskLayerIds: string[];
  unreferencedDiskLayerIds: string[];
}

export interface SharingSizes {
  /** Compressed bytes no other checkpoint shares (freed if this one is deleted). */
  ownBytes: number;
  sharedBytes: number;
}
