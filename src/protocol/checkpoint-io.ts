/**
 * The contract between the emulator worker and the checkpoint-I/O worker
 * (src/workers/checkpoint-io.ts): hashing, compression and IndexedDB work off the emulator
 * worker. One facet per concern; Comlink proxies the nested paths (`io.catalog.list()`).
 */
import type { CaptureMeta, CaptureProgress, CaptureTimings, CheckpointManifest, CheckpointSummary, GcOptions, GcResult, MachineIdentity, SharingSizes } from "./checkpoint-data";
import type { CheckpointCatalog } from "./checkpoints";
import type { ShareOptions, ShareResult } from "./share";
import type { DriveKind } from "./machine-config";

export interface CaptureResult {
  manifest: CheckpointManifest;
  timings: Partial<CaptureTimings>;
  /** The RAM staging buffer, transferred back so the emulator worker can reuse it. */
  ram: Uint8Array;
}

export interface LoadResult {
  manifest: CheckpointManifest;
  deviceState: ArrayBuffer;
  ram: Uint8Array;
}

export interface ShareProgress {
  phase: "upload" | "download" | "read-image";
  /** Bytes (sealed, i.e. as they travel). */
  done: number;
  total: number;
}

/**
 * A share link as the checkpoint-I/O worker opened it (parsed, its envelope fetched, decrypted,
 * validated and checked against this app's guest), handed on to the RAM loader so that no other
 * worker opens the link again. The keys are the non-extractable CryptoKeys derived from the
 * link's key: structured clones of them pass between this page's workers, never to a server.
 */
export interface OpenedShareLink {
  readonly manifest: CheckpointManifest;
  readonly keys: { readonly data: CryptoKey; readonly iv: CryptoKey };
  /** Store name of each sealed object by the content hash it holds (from the decrypted envelope). */
  readonly objects: Readonly<Record<string, string>>;
  /** The working-set pages' object and its sealed parts' lengths, if the link has one. */
  readonly pack?: { readonly name: string; readonly parts: readonly number[] };
  /** Base URL of the store its objects are read from, when not the app's own store (a published state's folder). */
  readonly store?: string;
}

/** What a lazy open needs before the guest can run; RAM chunks come later from the RAM loader. */
export type PreparedShare = (
  | { kind: "local"; id: string }
  | { kind: "lazy"; manifest: CheckpointManifest; deviceState: ArrayBuffer; opened: OpenedShareLink }
) & {
  /** A user's machine: its drives in boot order, each image now kept in this browser; the machine to boot. */
  machine?: SharedMachine;
};

/** The machine a shared user's checkpoint runs on, as the opener boots it. */
export interface SharedMachine {
  drives: Array<{ kind: DriveKind; stored: string }>;
  memoryMiB: number;
  vgaMemoryMiB: number;
}

export interface CaptureJobs {
  /** The whole-RAM capture (no dirty tracking): RAM copied at the pause. */
  capture(meta: CaptureMeta, ram: Uint8Array, deviceState: ArrayBuffer, onProgress?: (p: CaptureProgress) => void): Promise<CaptureResult>;
  /** Which of `hashes` the store holds: a base's chunks the store lacks must be sent too. */
  present(hashes: string[]): Promise<string[]>;
  /**
   * A streamed capture (src/checkpoint/capture-writer.ts), keyed by `meta.id`: the device state
   * now, RAM chunks as the emulator worker reads them, the manifest at commit. `base`: RAM chunk
   * hashes at the instant dirty tracking started (chunks not sent keep them), or null; `baseId`:
   * the stored checkpoint whose RAM chunks `base` is, when known.
   */
  begin(meta: CaptureMeta, deviceState: ArrayBuffer, ramLength: number, chunkSize: number, base: (string | null)[] | null, baseId?: string | null): Promise<void>;
  /** Chunks `indices`, their bytes back to back (transferred); `zeros`: chunks found all-zero. */
  addRam(id: string, indices: number[], data: Uint8Array, zeros: number[]): Promise<void>;
  commit(id: string): Promise<{ manifest: CheckpointManifest; timings: Partial<CaptureTimings> }>;
  abort(id: string): Promise<void>;
}

export interface LoadJobs {
  /** Reads and verifies a checkpoint; `staging` (memoryBytes long) is reused if given. */
  /** `machine`: the checkpoint is refused (checkpoint-incompatible) before any buffer is made. */
  load(id: string, staging?: Uint8Array, signal?: AbortSignal, machine?: MachineIdentity): Promise<LoadResult>;
  /** Manifest and device state only: a lazy restore fetches RAM chunks on demand (src/lazy). */
  loadLazy(id: string, machine?: MachineIdentity): Promise<{ manifest: CheckpointManifest; deviceState: ArrayBuffer }>;
  /**
   * RAM chunks `indices` of a checkpoint, verified, back to back (transferred): chunk k of
   * `indices` at k * chunkSize, zero chunks left zero. An eager restore that knows where RAM
   * differs from the checkpoint reads only those (src/emulator/eager-restore.ts).
   */
  readRamChunks(id: string, indices: readonly number[]): Promise<Uint8Array>;
}

export interface CatalogJobs extends CheckpointCatalog {
  list(): Promise<Array<CheckpointSummary & SharingSizes>>;
  remove(id: string): Promise<{ releasedDiskLayerIds: string[] }>;
  gc(options?: Omit<GcOptions, "locks">): Promise<GcResult>;
  /**
   * Stores a second manifest of checkpoint `id` (same chunks, same disk layers) as `copyId` with
   * `label`, its child in the tree: how a checkpoint becomes a machine's reset point.
   */
  copy(id: string, copyId: string, label: string): Promise<void>;
  /** The manifests without chunk lists or sharing sizes: a cheap list (list() reads every chunk's size). */
  summaries(): Promise<CheckpointSummary[]>;
  /**
   * The newest checkpoint labelled `label` of `machine` (a machine key, or "built-in": any build of
   * the built-in guest). Its device state is read ahead here: the loadLazy that follows (a reload
   * resuming its session save) gets it without waiting, where reading it after the machine was
   * built cost 40-80 ms.
   */
  newest(label: string, machine: string): Promise<NewestCheckpoint | undefined>;
}

export interface NewestCheckpoint {
  id: string;
  created: number;
  machineKey: string;
}

/** `CatalogJobs.newest`'s `machine` for any build of the built-in guest. */
export const BUILT_IN_MACHINES = "built-in";

export interface FileJobs {
  /** The checkpoint, its chunks and its (flattened) disk layer as one .snap86 file. */
  exportFile(id: string, signal?: AbortSignal): Promise<Blob>;
  importFile(file: Blob, signal?: AbortSignal): Promise<{ id: string; alreadyPresent: boolean }>;
}

export interface ShareJobs {
  /** Encrypts the checkpoint and uploads what the store lacks. */
  publish(id: string, appUrl: string, onProgress?: (p: ShareProgress) => void, signal?: AbortSignal, options?: ShareOptions): Promise<ShareResult>;
  /** Fetches, verifies and imports a shared checkpoint; returns its id. */
  /** `store`: read the link's objects from this base URL instead of the app's store (a published state's folder). */
  open(link: string, onProgress?: (p: ShareProgress) => void, signal?: AbortSignal, store?: string): Promise<string>;
  /**
   * A lazy open's first half: device state and disk layer fetched and stored, RAM left to the
   * RAM loader (which lists the checkpoint once all of it is stored).
   */
  prepare(link: string, onProgress?: (p: ShareProgress) => void, signal?: AbortSignal, store?: string): Promise<PreparedShare>;
}

export interface CheckpointIoApi {
  capture: CaptureJobs;
  load: LoadJobs;
  catalog: CatalogJobs;
  files: FileJobs;
  share: ShareJobs;
}
