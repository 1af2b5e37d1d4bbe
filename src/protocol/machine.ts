/** The machine facet of the emulator worker: power, input, screen text, run statistics. */
import type { MachineConfig } from "./machine-config";

export type RunState = "off" | "loading" | "booting" | "running" | "paused" | "error";

/**
 * Which machine runs: the built-in guest (checkpoints, share, reset to its clean state) or a
 * user's own image (none of those yet). The page follows this, never its own assumption.
 */
export type MachineKind = "built-in" | "own-image";

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
  /**
   * Milliseconds since the machine powered on, by the guest's own clock (its TSC): continues
   * across pause, checkpoint restore and resume, as the guest's /proc/uptime does.
   */
  uptimeMs: number;
  /** Millions of instructions per second over the last interval; 0 while paused. */
  mips: number;
}

export type NoticeLevel = "error" | "warning" | "info";

export interface MachineFacet {
  /** Resolves when the emulator runs; rejects with a user-readable message. */
  boot(config: MachineConfig): Promise<void>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Hard reset of the machine (like the reset button), keeps the disks. */
  reboot(): Promise<void>;
  powerOff(): Promise<void>;
  /**
   * The page is going away for good (pagehide, not into the back-forward cache): the guest and
   * the session saves stop; what is being written still completes.
   */
  leaving(): Promise<void>;
  /** Types into the user's serial terminal (ttyS0). */
  serialInput(data: string): void;
  /**
   * Whether the running guest has an automation shell on a second serial port (the built-in
   * guest does, a user's image does not): commands sent by automationInput run there unseen.
   */
  automationChannel(): boolean;
  /** Types into the automation shell; its output comes back as "automation" events. */
  automationInput(data: string): void;
  /** PS/2 set-1 scancodes, make and break codes as the keyboard would send them. */
  keyboardInput(scancodes: number[]): void;
  /** Text of the VGA text screen, one string per row (empty in graphics mode). */
  screenText(): string[];
  stats(): Stats;
  /** Starts fetching what a boot of `config` needs (a reload asks while it looks up its session). */
  prefetchBoot(config: MachineConfig): void;
  /** Period of automatic saves of the running session in seconds; 0 turns them off. */
  setAutosaveInterval(seconds: number): void;
  /** The period set by setAutosaveInterval, or null while the automatic one applies (a standby switched in takes it over). */
  autosaveSetting(): number | null;
  /** For tests of the session wipe: does guest RAM contain this text (UTF-8) anywhere? */
  ramContains(text: string): Promise<boolean>;
  /** For tests of restores: does the guest run with paging (CR0.PG) and PAE (CR4.PAE) now? */
  cpuMode(): Promise<{ paging: boolean; pae: boolean }>;
  /** For benchmarks: v86's own save_state + restore_state of the whole machine, in place. */
  measureV86State(): Promise<{ saveMs: number; restoreMs: number; bytes: number }>;
}
