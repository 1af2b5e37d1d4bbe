/** The reset facet of the emulator worker: golden checkpoint, session wipe, standby machines. */
import type { CheckpointInfo } from "./checkpoints";
import type { MachineConfig } from "./machine-config";

export interface ResetResult {
  /** From the start of the reset in the worker until the golden state ran. */
  resetMs: number;
  /** When the golden state began to run, as performance.timeOrigin + performance.now() (epoch ms). */
  ranAt: number;
  /** RAM pages copied back: those written since the golden state, or all of RAM without tracking. */
  pagesCopied: number;
  /** The in-place action alone: stop, disk branch, device state and RAM pages back (what bench:memory reports). */
  actionMs: number;
  /** Of actionMs, the device state and RAM pages put back (the rest is stopping and the disk layer switch). */
  restoreMs: number;
}

export interface DiscardOptions {
  /** The session ended (reset) at this Date.now(): its autosaves up to then are deleted too. */
  endedAt?: number;
}

export interface ResetFacet {
  /**
   * The golden checkpoint of the running machine's image and config: found, or taken now (call it
   * once the shell answers after a cold boot). Stale goldens of an older guest build are deleted.
   */
  ensureGolden(): Promise<CheckpointInfo>;
  /**
   * At the shell's first answer after a start: takes the golden checkpoint now when this was a
   * clean cold boot, before any queued command changes the guest. Does not wait for a golden state
   * that is still arriving (a lazily streamed published state): ensureGolden() waits for that.
   */
  captureCleanBoot(): Promise<void>;
  /**
   * Makes checkpoint `id` (one of the running machine's) the machine's reset point: Reset and the
   * standby return to it from now on. The checkpoint stays as it is; a copy of it labelled
   * "golden" (same chunks and disk layers, its child in the tree) is the reset point, and the
   * machine's earlier reset point is deleted. Resolves with that reset point.
   */
  setResetPoint(id: string): Promise<CheckpointInfo>;
  /**
   * Session wipe: drop the session's disk and autosaves, restore the golden state, resume.
   * Resolves once the session's records are deleted from IndexedDB.
   */
  reset(): Promise<ResetResult>;
  /** Makes this worker a standby: boots, restores the golden checkpoint, stays paused. */
  prepareStandby(config: MachineConfig, goldenId: string): Promise<void>;
  /**
   * Powers off and deletes this machine's session disk; resolves once it is gone from IndexedDB.
   * With `endedAt` (a machine its standby replaced on reset) the session's autosaves taken up to
   * then go too, with their chunks and layers.
   */
  discardSession(options?: DiscardOptions): Promise<void>;
  /** Resolves once the start cleanup and this machine's deletions of session data are over. */
  settleStorage(): Promise<void>;
}
