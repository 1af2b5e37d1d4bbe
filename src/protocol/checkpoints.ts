/** The checkpoints facet of the emulator worker: take, restore and keep stored checkpoints. */
import type { CaptureTimings, CheckpointRecord, CheckpointSizes, SharingSizes } from "./checkpoint-data";
import type { MachineConfig } from "./machine-config";

/**
 * A stored checkpoint as lists show it (the full manifest stays in the worker): its record, the
 * sizes the panel shows, and what the worker knows of it.
 */
export interface CheckpointInfo extends CheckpointRecord, Pick<CheckpointSizes, "ramBytes" | "storedBytes">, SharingSizes {
  /** Periodic / page-hide save of the running session, replaced by the next one. */
  autosave: boolean;
  /** The clean booted state of its image and machine config that resets return to. */
  golden: boolean;
  /** Same value for checkpoints that fit the same machine (guest image, memory, VGA, v86). */
  machineKey: string;
  /** The running machine descends from this checkpoint (last taken or restored). */
  current: boolean;
}

export interface CheckpointOptions {
  label?: string;
  /** Small screen picture (the page renders it from its canvas). */
  thumbnail?: { mime: "image/png" | "image/webp" | "image/jpeg"; base64: string };
  autosave?: boolean;
}

/** Where a checkpoint's pause went: stopping the CPU at a tick boundary, v86's device state, fixing the RAM snapshot (or copying all of RAM without tracking). */
export interface PauseParts {
  stopMs: number;
  deviceStateMs: number;
  ramMs: number;
}

export interface CheckpointResult {
  id: string;
  /** How long the guest was stopped. */
  pauseMs: number;
  pauseParts?: PauseParts;
  /** From the call until the checkpoint was complete in IndexedDB. */
  persistMs: number;
  /** Where the checkpoint-I/O worker's share of persistMs went (hashing, compressing, waiting on IndexedDB). */
  persistParts?: Partial<CaptureTimings>;
  storedBytes: number;
  newBytes: number;
  /**
   * RAM chunks read after the pause: those written since the last checkpoint, restore or reset
   * (dirty-page tracking), or all of RAM where tracking is unavailable.
   */
  chunksWritten: number;
  /** Most memory the capture held at once beyond the guest's RAM: pages copied aside and parts not yet stored (all of RAM without tracking). */
  peakExtraBytes: number;
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

export interface ResumeSessionOptions {
  /** A session save is likely (a guest ran in this browser): the machine is built while it is looked for. */
  expectSave?: boolean;
}

/** A session resumed: the restore, and when the save it resumed was taken. */
export interface ResumedSession extends RestoreResult {
  created: number;
}

/** While a lazy restore is loading RAM in the background. */
export interface LazyStatus {
  active: boolean;
  residentPages: number;
  totalPages: number;
  faults: number;
}

export type CheckpointPhase = "paused" | "resumed" | "writing" | "done" | "failed";


/**
 * Edits of stored checkpoints that need no machine: the checkpoint-I/O worker implements them and
 * the emulator worker passes them through unchanged (see src/emulator/checkpoints-facet.ts), so a
 * new one is declared here, implemented in src/checkpoint-io/catalog.ts, and called.
 */
export interface CheckpointCatalog {
  label(id: string, label: string): Promise<void>;
}

export interface CheckpointsFacet extends CheckpointCatalog {
  /** Pauses for a moment, then writes the checkpoint in the background; resolves when it is stored. */
  take(options?: CheckpointOptions): Promise<CheckpointResult>;
  /**
   * Stops the machine, loads the checkpoint (verified), resumes; refuses incompatible ones.
   * Aborted while loading, the machine runs on as it was; once the state is applied it is too late.
   */
  restore(id: string, options?: RestoreOptions, signal?: AbortSignal): Promise<RestoreResult>;
  /** Boots the machine straight into a stored checkpoint (e.g. the autosave after a reload). */
  bootFrom(config: MachineConfig, id: string, options?: RestoreOptions): Promise<RestoreResult>;
  /**
   * Boots the built-in guest into its newest session save (what a reload resumes); resolves null,
   * with the machine off, when there is none.
   */
  resumeSession(config: MachineConfig, options?: ResumeSessionOptions & RestoreOptions): Promise<ResumedSession | null>;
  /**
   * Boots `config` into its newest autosave (a reload of a user's machine: which autosave is its
   * own is known only once its drives are open), or, without one, cold-boots it: resolves null.
   */
  bootResume(config: MachineConfig, options?: RestoreOptions): Promise<RestoreResult | null>;
  lazyStatus(): LazyStatus;
  list(): Promise<CheckpointInfo[]>;
  /** Deletes and reclaims chunks and disk layers nothing else uses. */
  remove(id: string): Promise<void>;
  /** One `.snap86` file with the checkpoint, its chunks and its disk. */
  exportFile(id: string, signal?: AbortSignal): Promise<Blob>;
  /** Aborted, nothing of the file stays (chunks already written go at the next collection). */
  importFile(file: Blob, signal?: AbortSignal): Promise<CheckpointInfo>;
}
