/** The share facet of the emulator worker: end-to-end encrypted links (src/share). */
import type { RestoreResult } from "./checkpoints";
import type { MachineConfig } from "./machine-config";

/**
 * How a share of a user's machine carries a drive's image: `upload` (default) puts its blocks in
 * the link, encrypted and deduplicated like the rest; `url` names the public URL it was booted
 * from (the opener reads it there, each block checked against its hash). A picked file is always
 * uploaded. The built-in guest's disk is always shared by reference.
 */
export interface ShareOptions {
  imageBy?: "upload" | "url";
}

/** What opening a link booted: the checkpoint, and for a user's machine the config it now runs. */
export interface ShareOpenResult extends RestoreResult {
  /** Set when the link held a user's machine: its drives (kept in this browser) and memory. */
  config?: MachineConfig;
}

export interface ShareResult {
  /** `<app URL>#share=<manifest name>.<key>`: the key never leaves the fragment. */
  link: string;
  uploadedBytes: number;
  skippedBytes: number;
  uploadMs: number;
  /** Part of the bytes above: the pack (the working set again, as one object an opener fetches first). */
  packBytes: number;
}

export interface ShareFacet {
  /** Uploads what the store lacks of a checkpoint (encrypted) and returns its share link. */
  publish(id: string, appUrl: string, signal?: AbortSignal, options?: ShareOptions): Promise<ShareResult>;
  /**
   * Opens a share link: fetches, decrypts and verifies the checkpoint and boots into it. Aborted
   * before the new machine runs, the running one is left as it was.
   */
  /** `store`: base URL its objects are read from instead of the app's store (the published first-visit state's folder). */
  open(link: string, config: MachineConfig, signal?: AbortSignal, store?: string): Promise<ShareOpenResult>;
}
