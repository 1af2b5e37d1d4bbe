/**
 * `window.snap86`: the automation API for scenarios (Playwright's page.evaluate) and for people
 * embedding snap86. Everything goes through the same EmulatorClient the UI uses.
 */
import type { MachineConfig } from "../shared/machine-config";
import { DEFAULT_CONFIG } from "../shared/machine-config";
import type { CheckpointInfo, CheckpointOptions, CheckpointResult, DiskInfo, LazyStatus, RestoreOptions, RestoreResult, ShareResult, Stats } from "../shared/protocol";
import type { EmulatorClient } from "./emulator-client";
import type { ResetController, ResetOutcome } from "../reboot/reset-controller";
import type { StandbyStatus } from "../reboot/standby";
import { runCommand, type RunResult } from "./run-command";

export interface WaitOptions {
  timeoutMs?: number;
}

export interface Snap86Api {
  /** Boots a machine; resolves when the emulator runs (not when the guest's shell is up). */
  boot(config?: Partial<MachineConfig>): Promise<void>;
  /** Boots if needed, then waits until the guest shell answers a command. */
  waitForShell(options?: WaitOptions): Promise<void>;
  /** Waits for text (or a RegExp) on the serial console after the current end of the transcript. */
  waitForSerial(pattern: string | RegExp, options?: WaitOptions & { fromStart?: boolean }): Promise<string>;
  /** Runs one shell command line over serial and returns its exact output (no trailing newline). */
  run(command: string, options?: WaitOptions): Promise<string>;
  /** Like run, with the exit status. */
  runWithStatus(command: string, options?: WaitOptions): Promise<RunResult>;
  /** Types raw text into the serial console. */
  type(text: string): Promise<void>;
  screenText(): Promise<string>;
  serialText(): string;
  state(): Promise<Stats>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  reboot(): Promise<void>;
  powerOff(): Promise<void>;
  /** Disk numbers of the built-in guest (undefined for a user's own image). */
  diskInfo(): Promise<DiskInfo | undefined>;
  /** Resolves when every guest write so far is stored in IndexedDB. */
  flushDisk(): Promise<void>;
  /** Drops the session's disk changes and reboots on the pristine base image. */
  wipeDisk(): Promise<void>;
  /** Takes a checkpoint (brief pause, then written in the background); resolves once stored. */
  checkpoint(options?: CheckpointOptions): Promise<CheckpointResult>;
  restore(id: string, options?: RestoreOptions): Promise<RestoreResult>;
  checkpoints(): Promise<CheckpointInfo[]>;
  labelCheckpoint(id: string, label: string): Promise<void>;
  deleteCheckpoint(id: string): Promise<void>;
  exportCheckpoint(id: string): Promise<Blob>;
  importCheckpoint(file: Blob): Promise<CheckpointInfo>;
  /** Seconds between automatic saves of the running session (0 = off). */
  setAutosaveInterval(seconds: number): Promise<void>;
  /** Uploads the checkpoint (encrypted) to the store; the link opens it in any browser. */
  share(id: string): Promise<ShareResult>;
  /** Opens a share link: imports the checkpoint and boots into it (default machine config). */
  openShare(link: string, config?: Partial<MachineConfig>): Promise<RestoreResult>;
  /**
   * Back to the golden (clean booted) state in milliseconds: session disk, RAM, autosaves and the
   * page's serial output are wiped. Uses the standby machine when one is ready. Resolves once the
   * session's records are deleted from IndexedDB (`wipeMs`); `resetMs` is when the golden state ran.
   */
  reset(): Promise<ResetOutcome>;
  /**
   * Resolves once deletions of session data are over: those a closed tab cut short (finished after
   * the machine first runs on a new page) and those of the running machine's disk.
   */
  settleStorage(): Promise<void>;
  /** The golden checkpoint of the running config (taken now if missing; the shell must be up). */
  ensureGolden(): Promise<CheckpointInfo>;
  /** Standby: switch on/off, and wait until a spare machine is ready (or preparing failed). */
  setStandby(enabled: boolean): Promise<void>;
  standbyStatus(): StandbyStatus;
  waitForStandby(options?: WaitOptions): Promise<StandbyStatus>;
  /** While a lazy restore loads RAM: resident pages and faults so far. */
  lazyStatus(): Promise<LazyStatus>;
  /** For tests of the session wipe: is this text anywhere in guest RAM? */
  ramContains(text: string): Promise<boolean>;
  /** v86's own full save_state + restore_state timing, for benchmarks. */
  measureV86State(): Promise<{ saveMs: number; restoreMs: number; bytes: number }>;
}

const DEFAULT_RUN_TIMEOUT_MS = 30_000;
const DEFAULT_SHELL_TIMEOUT_MS = 120_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export function createAutomationApi(
  client: EmulatorClient,
  onBoot: (config: MachineConfig) => Promise<void>,
  resets: ResetController,
  /** A picture of the screen for checkpoints taken through the API (synchronous: see checkpoint). */
  thumbnail: () => CheckpointOptions["thumbnail"] = () => undefined,
): Snap86Api {
  // Commands share one console: run them one at a time.
  let queue: Promise<unknown> = Promise.resolve();
  const serialized = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = queue.then(fn, fn);
    queue = next.catch(() => undefined);
    return next;
  };

  const runNow = async (command: string, options?: WaitOptions) => {
    // A machine that is just starting (or was just swapped in) reports "running" shortly.
    if (client.state === "loading") await client.whenState("running").catch(() => undefined);
    if (client.state !== "running") throw new Error(`The machine is ${client.state}: boot or resume it before run()`);
    return runCommand(client.serial, (text) => void client.remote.serialInput(text), command, options?.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS);
  };
  const runWithStatus = (command: string, options?: WaitOptions) => serialized(() => runNow(command, options));

  const api: Snap86Api = {
    boot: (config) => onBoot({ ...DEFAULT_CONFIG, ...config }),
    async waitForShell(options) {
      const deadline = performance.now() + (options?.timeoutMs ?? DEFAULT_SHELL_TIMEOUT_MS);
      if (client.state === "off" || client.state === "error") await api.boot();
      // The serial getty may not be listening yet; typed input would be lost, so keep asking.
      for (;;) {
        const left = deadline - performance.now();
        if (left <= 0) throw new Error("The guest shell did not answer in time");
        if (client.state === "error" || client.state === "off") {
          throw new Error(client.lastError ?? `The machine is ${client.state}`);
        }
        if (client.state !== "running") {
          await sleep(50); // still loading, or paused by someone else: wait without spinning
          continue;
        }
        let answered = false;
        await serialized(async () => {
          try {
            await runNow("true", { timeoutMs: Math.min(1500, left) });
            answered = true;
          } catch {
            return; // not answering yet; ask again
          }
          // The first answer after a cold boot of the pristine disk is the clean state: save it as
          // the golden checkpoint now, before any command queued behind this one changes it. The
          // worker refuses quietly when a golden exists or the boot was not clean.
          await client.remote.ensureGolden().catch(() => undefined);
        });
        if (answered) return;
      }
    },
    async waitForSerial(pattern, options) {
      const re = typeof pattern === "string" ? new RegExp(escapeRegExp(pattern)) : pattern;
      const from = options?.fromStart ? 0 : client.serial.end;
      const m = await client.serial.wait(re, from, options?.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS);
      return m[0];
    },
    async run(command, options) {
      return (await runWithStatus(command, options)).output;
    },
    runWithStatus,
    async type(text) {
      await client.remote.serialInput(text);
    },
    async screenText() {
      return (await client.remote.screenText()).map((row) => row.trimEnd()).join("\n");
    },
    serialText: () => client.serial.since(0),
    state: () => client.remote.stats(),
    pause: () => client.remote.pause(),
    resume: () => client.remote.resume(),
    reboot: () => client.remote.reboot(),
    powerOff: () => client.remote.powerOff(),
    diskInfo: () => client.remote.diskInfo(),
    flushDisk: () => client.remote.flushDisk(),
    wipeDisk: () => client.remote.wipeDisk(),
    // Sent in the same turn as the call: a checkpoint asked for before a reset captures the old session.
    checkpoint: (options) => {
      const picture = options?.thumbnail ?? thumbnail();
      return client.remote.checkpoint({ ...options, ...(picture ? { thumbnail: picture } : {}) });
    },
    restore: (id, options) => client.remote.restore(id, options),
    checkpoints: () => client.remote.listCheckpoints(),
    labelCheckpoint: (id, label) => client.remote.labelCheckpoint(id, label),
    deleteCheckpoint: (id) => client.remote.deleteCheckpoint(id),
    exportCheckpoint: (id) => client.remote.exportCheckpoint(id),
    importCheckpoint: (file) => client.remote.importCheckpoint(file),
    setAutosaveInterval: async (seconds) => client.remote.setAutosaveInterval(seconds),
    share: (id) => client.remote.shareCheckpoint(id, `${location.origin}${location.pathname}`),
    openShare: (link, config) => client.remote.openShare(link, { ...DEFAULT_CONFIG, ...config }),
    measureV86State: () => client.remote.measureV86State(),
    reset: () => resets.reset(),
    ensureGolden: () => client.remote.ensureGolden(),
    setStandby: async (enabled) => {
      await resets.standby.setEnabled(enabled);
      if (enabled) resets.refreshStandby();
    },
    standbyStatus: () => resets.standby.status,
    async waitForStandby(options) {
      const deadline = performance.now() + (options?.timeoutMs ?? DEFAULT_SHELL_TIMEOUT_MS);
      while (resets.standby.status === "preparing" || (resets.standby.enabled && resets.standby.status === "off")) {
        if (performance.now() > deadline) throw new Error("The standby machine was not ready in time");
        await sleep(50);
      }
      return resets.standby.status;
    },
    ramContains: (text) => client.remote.ramContains(text),
    settleStorage: () => client.remote.settleStorage(),
    lazyStatus: () => client.remote.lazyStatus(),
  };
  return api;
}
