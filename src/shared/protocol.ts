/**
 * The one contract between the main thread and the emulator worker (exposed with Comlink).
 * The main thread never sees the V86 object: it calls these methods and listens to events.
 */
import type { DiskMode, MachineConfig } from "./machine-config";

export type RunState = "off" | "loading" | "booting" | "running" | "paused" | "error";

/** Text-mode screen: one byte per cell for the character (CP437) and 24-bit colours. */
export interface TextFrame {
  mode: "text";
  cols: number;
  rows: number;
  chars: Uint8Array;
  fg: Int32Array;
  bg: Int32Array;
  cursor: { row: number; col: number; visible: boolean };
}

/** Graphics-mode screen: RGBA pixels of the dirty rows (full width) of a width x height image. */
export interface PixelFrame {
  mode: "graphics";
  width: number;
  height: number;
  y: number;
  rows: number;
  rgba: Uint8ClampedArray;
}

export type ScreenFrame = TextFrame | PixelFrame;

export interface Progress {
  /** What is loading, e.g. "bzImage". */
  label: string;
  loaded: number;
  total: number;
}

export interface Stats {
  state: RunState;
  /** Milliseconds the guest has been running (paused time excluded). */
  uptimeMs: number;
  /** Millions of instructions per second over the last interval; 0 while paused. */
  mips: number;
}

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
}

export type NoticeLevel = "error" | "warning" | "info";

/** A stored checkpoint as lists show it (the full manifest stays in the worker). */
export interface CheckpointInfo {
  id: string;
  /** The checkpoint this one was taken after (tree edges); null for a root. */
  parent: string | null;
  label: string;
  created: number;
  /** Periodic / page-hide save of the running session, replaced by the next one. */
  autosave: boolean;
  /** The clean booted state of its image and machine config that resets return to. */
  golden: boolean;
  /** Same value for checkpoints that fit the same machine (guest image, memory, VGA, v86). */
  machineKey: string;
  thumbnail: { mime: string; base64: string } | null;
  /** Guest RAM size, compressed bytes it references, and how many of those it alone added. */
  ramBytes: number;
  storedBytes: number;
  /** Compressed bytes no other checkpoint shares (freed if this one is deleted). */
  ownBytes: number;
  sharedBytes: number;
  diskLayerId: string | null;
  /** The running machine descends from this checkpoint (last taken or restored). */
  current: boolean;
}

export interface CheckpointOptions {
  label?: string;
  /** Small screen picture (the page renders it from its canvas). */
  thumbnail?: { mime: "image/png" | "image/webp" | "image/jpeg"; base64: string };
  autosave?: boolean;
}

export interface CheckpointResult {
  id: string;
  /** How long the guest was stopped. */
  pauseMs: number;
  /** From the call until the checkpoint was complete in IndexedDB. */
  persistMs: number;
  storedBytes: number;
  newBytes: number;
}

export type RestoreMode = "eager" | "lazy";

export interface RestoreOptions {
  /** lazy (the default where the instrumented wasm loaded): the guest resumes before its RAM is loaded, pages load on first touch; eager: all RAM loaded and verified first. */
  mode?: RestoreMode;
}

export interface RestoreResult {
  id: string;
  mode: RestoreMode;
  /** From the call until the guest runs again. */
  restoreMs: number;
  /** Why a lazy restore was not possible, when eager was used instead. */
  lazyUnavailable?: string;
}

/** While a lazy restore is loading RAM in the background. */
export interface LazyStatus {
  active: boolean;
  residentPages: number;
  totalPages: number;
  faults: number;
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

export type CheckpointPhase = "paused" | "resumed" | "writing" | "done" | "failed";

export type EmulatorEvent =
  | { type: "serial"; data: string }
  | { type: "screen"; frame: ScreenFrame }
  | { type: "state"; state: RunState; error?: string }
  | { type: "progress"; progress: Progress }
  | { type: "stats"; stats: Stats }
  | { type: "disk"; disk: DiskInfo }
  | { type: "notice"; level: NoticeLevel; message: string }
  | { type: "checkpoint"; phase: CheckpointPhase; id: string; pauseMs?: number; done?: number; total?: number; error?: string }
  | { type: "checkpoints"; list: CheckpointInfo[] }
  | { type: "lazy"; status: LazyStatus }
  | { type: "share"; phase: "upload" | "download"; done: number; total: number };

export type EventListener = (event: EmulatorEvent) => void;

export interface ResetResult {
  /** From the start of the reset in the worker until the golden state ran. */
  resetMs: number;
  /** When the golden state began to run, as performance.timeOrigin + performance.now() (epoch ms). */
  ranAt: number;
}

export interface DiscardOptions {
  /** The session ended (reset) at this Date.now(): its autosaves up to then are deleted too. */
  endedAt?: number;
}

export interface EmulatorApi {
  subscribe(listener: EventListener): void;
  /** Resolves when the emulator runs; rejects with a user-readable message. */
  boot(config: MachineConfig): Promise<void>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Hard reset of the machine (like the reset button), keeps the disks. */
  reboot(): Promise<void>;
  powerOff(): Promise<void>;
  serialInput(data: string): void;
  /** PS/2 set-1 scancodes, make and break codes as the keyboard would send them. */
  keyboardInput(scancodes: number[]): void;
  /** Text of the VGA text screen, one string per row (empty in graphics mode). */
  screenText(): string[];
  stats(): Stats;
  /** Undefined when the machine is off or boots a user's own image. */
  diskInfo(): DiskInfo | undefined;
  /** Write-behind barrier: resolves when every guest write so far is in IndexedDB. */
  flushDisk(): Promise<void>;
  /** Drops the session's disk overlay and reboots on the pristine base image. */
  wipeDisk(): Promise<void>;

  /** Pauses for a moment, then writes the checkpoint in the background; resolves when it is stored. */
  checkpoint(options?: CheckpointOptions): Promise<CheckpointResult>;
  /** Stops the machine, loads the checkpoint (verified), resumes; refuses incompatible ones. */
  restore(id: string, options?: RestoreOptions): Promise<RestoreResult>;
  lazyStatus(): LazyStatus;
  /** Uploads what the store lacks of a checkpoint (encrypted) and returns its share link. */
  shareCheckpoint(id: string, appUrl: string): Promise<ShareResult>;
  /** Opens a share link: fetches, decrypts and verifies the checkpoint and boots into it. */
  openShare(link: string, config: MachineConfig): Promise<RestoreResult>;
  listCheckpoints(): Promise<CheckpointInfo[]>;
  labelCheckpoint(id: string, label: string): Promise<void>;
  /** Deletes and reclaims chunks and disk layers nothing else uses. */
  deleteCheckpoint(id: string): Promise<void>;
  /** One `.snap86` file with the checkpoint, its chunks and its disk. */
  exportCheckpoint(id: string): Promise<Blob>;
  importCheckpoint(file: Blob): Promise<CheckpointInfo>;
  /** Boots the machine straight into a stored checkpoint (e.g. the autosave after a reload). */
  bootFromCheckpoint(config: MachineConfig, id: string, options?: RestoreOptions): Promise<RestoreResult>;
  /** Period of automatic saves of the running session in seconds; 0 turns them off. */
  setAutosaveInterval(seconds: number): void;
  /**
   * The golden checkpoint of the running machine's image and config: found, or taken now (call it
   * once the shell answers after a cold boot). Stale goldens of an older guest build are deleted.
   */
  ensureGolden(): Promise<CheckpointInfo>;
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
  /** For tests of the session wipe: does guest RAM contain this text (UTF-8) anywhere? */
  ramContains(text: string): Promise<boolean>;
  /** Resolves once the start cleanup and this machine's deletions of session data are over. */
  settleStorage(): Promise<void>;
  /** For benchmarks: v86's own save_state + restore_state of the whole machine, in place. */
  measureV86State(): Promise<{ saveMs: number; restoreMs: number; bytes: number }>;
}
