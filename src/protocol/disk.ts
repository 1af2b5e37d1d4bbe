/** The disk facet of the emulator worker: the built-in guest's layered disk. */
import type { DiskMode } from "./machine-config";

/** What the disk panel shows; quota and persistence are read by the page itself. */
export interface DiskInfo {
  mode: DiskMode;
  layerId: string;
  overlayBytes: number;
  overlayBlocks: number;
  /** Written by the guest, not yet in IndexedDB. */
  dirtyBytes: number;
  imageBytes: number;
  baseFetchedBytes: number;
  baseCachedBytes: number;
  storageFull: boolean;
  /** Another tab holds this disk: this tab runs on a temporary in-memory copy. */
  lockedElsewhere: boolean;
  /**
   * Frozen layers the disk reads through (the backing chain): one per checkpoint kept on the way
   * from the base image, plus the last session save. Session saves do not add to it.
   */
  chainDepth: number;
}

export interface DiskFacet {
  /** Undefined when the machine is off or boots a user's own image. */
  info(): DiskInfo | undefined;
  /** Write-behind barrier: resolves when every guest write so far is in IndexedDB. */
  flush(): Promise<void>;
  /** Drops the session's disk overlay and reboots on the pristine base image. */
  wipe(): Promise<void>;
}
