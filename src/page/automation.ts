/**
 * `window.snap86`: the automation API for scenarios (Playwright's page.evaluate) and for people
 * embedding snap86. Everything goes through the same EmulatorClient the UI uses.
 */
import type { MachineConfig } from "../protocol/machine-config";
import { DEFAULT_CONFIG } from "../protocol/machine-config";
import type { CheckpointInfo, CheckpointOptions, CheckpointResult, EmulatorApi, FacetName, RestoreResult, ShareOpenResult, ShareOptions, ShareResult } from "../protocol";
import type { EmulatorClient, EmulatorRemote } from "./emulator-client";
import type { ResetController, ResetOutcome } from "./reset-controller";
import type { StandbyStatus } from "./standby";
import { runCommand, type RunResult } from "./run-command";
import { fromWireError, Snap86Error } from "../protocol/errors";
import { listKeptImages, type KeptImageMeta } from "../storage/image-db";
import { downloadFile, uploadFile, type UploadData } from "./guest-files";
import type { HostFile } from "../protocol";

export interface WaitOptions {
  timeoutMs?: number;
}

/**
 * `window.snap86` calls that are one facet method of the emulator worker, unchanged: the flat
 * names scenarios, the README and the Playwright fixture use. Built in a loop (createAutomationApi),
 * typed from the facet contracts, so adding one is one line here.
 */
const FLAT = {
  state: ["machine", "stats"],
  pause: ["machine", "pause"],
  resume: ["machine", "resume"],
  reboot: ["machine", "reboot"],
  powerOff: ["machine", "powerOff"],
  /** Seconds between automatic saves of the running session (0 = off). */
  setAutosaveInterval: ["machine", "setAutosaveInterval"],
  ramContains: ["machine", "ramContains"],
  cpuMode: ["machine", "cpuMode"],
  measureV86State: ["machine", "measureV86State"],
  diskInfo: ["disk", "info"],
  flushDisk: ["disk", "flush"],
  wipeDisk: ["disk", "wipe"],
  restore: ["checkpoints", "restore"],
  checkpoints: ["checkpoints", "list"],
  labelCheckpoint: ["checkpoints", "label"],
  deleteCheckpoint: ["checkpoints", "remove"],
  exportCheckpoint: ["checkpoints", "exportFile"],
  importCheckpoint: ["checkpoints", "importFile"],
  lazyStatus: ["checkpoints", "lazyStatus"],
  ensureGolden: ["reset", "ensureGolden"],
  settleStorage: ["reset", "settleStorage"],
  /** Files of the host folder (/mnt/host), paths relative to it. */
  listFiles: ["files", "list"],
  networkStatus: ["network", "status"],
  /** Plugs (true) or unplugs (false) the network cable of the running machine. */
  setNetwork: ["network", "setEnabled"],
} as const satisfies Record<string, readonly [FacetName, string]>;

type FacetMethod<F extends FacetName, M> = M extends keyof EmulatorApi[F] ? EmulatorApi[F][M] : never;
type Promised<Fn> = Fn extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
/** The flat calls FLAT maps, with the facet method's parameters and (promised) result. */
export type FlatCalls = { -readonly [K in keyof typeof FLAT]: Promised<FacetMethod<(typeof FLAT)[K][0], (typeof FLAT)[K][1]>> };

export interface Snap86Api extends FlatCalls {
  /** The emulator worker's facets themselves (`snap86.facets.checkpoints.list()`), always the current machine's. */
  readonly facets: EmulatorRemote;
  /** Boots a machine; resolves when the emulator runs (not when the guest's shell is up). */
  boot(config?: Partial<MachineConfig>): Promise<void>;
  /** Boots if needed, then waits until the guest shell answers a command. */
  waitForShell(options?: WaitOptions): Promise<void>;
  /** Waits for text (or a RegExp) on the serial console after the current end of the transcript. */
  waitForSerial(pattern: string | RegExp, options?: WaitOptions & { fromStart?: boolean }): Promise<string>;
  /**
   * Runs one shell command line and returns its exact output (no trailing newline): on the
   * built-in guest's automation channel (ttyS1, unseen in the terminal), else typed on ttyS0.
   */
  run(command: string, options?: WaitOptions): Promise<string>;
  /** Like run, with the exit status. */
  runWithStatus(command: string, options?: WaitOptions): Promise<RunResult>;
  /** Types raw text into the serial console. */
  type(text: string): Promise<void>;
  screenText(): Promise<string>;
  serialText(): string;
  /** Takes a checkpoint (brief pause, then written in the background); resolves once stored. */
  checkpoint(options?: CheckpointOptions): Promise<CheckpointResult>;
  /**
   * Uploads the checkpoint (encrypted) to the store; the link opens it in any browser. A user's
   * machine's images go with it: `{ imageBy: "url" }` names a URL image's URL instead of uploading it.
   */
  share(id: string, options?: AbortSignal | (ShareOptions & { signal?: AbortSignal })): Promise<ShareResult>;
  /** Opens a share link: imports the checkpoint and boots into it (default machine config; a user's machine: its own, in `config`). */
  openShare(link: string, config?: Partial<MachineConfig>, signal?: AbortSignal): Promise<ShareOpenResult>;
  /**
   * Back to the golden (clean booted) state in milliseconds: session disk, RAM, autosaves and the
   * page's serial output are wiped. Uses the standby machine when one is ready. Resolves once the
   * session's records are deleted from IndexedDB (`wipeMs`); `resetMs` is when the golden state ran.
   */
  reset(): Promise<ResetOutcome>;
  /**
   * Makes checkpoint `id` (of the running machine) its reset point: reset() and the standby return
   * to it from then on. Resolves with the reset point (a copy of the checkpoint labelled "golden").
   */
  setResetPoint(id: string): Promise<CheckpointInfo>;
  /** Standby: switch on/off, and wait until a spare machine is ready (or preparing failed). */
  setStandby(enabled: boolean): Promise<void>;
  standbyStatus(): StandbyStatus;
  waitForStandby(options?: WaitOptions): Promise<StandbyStatus>;
  /**
   * Images chosen as files and kept in this browser (`complete`: every block stored, so
   * `boot({ image: { stored: id } })` works after a reload without the file).
   */
  keptImages(): Promise<KeptImageMeta[]>;
  /**
   * Puts a file into the guest's host folder: `path` relative to /mnt/host or absolute under it.
   * Resolves once the guest can read it.
   */
  upload(path: string, data: UploadData): Promise<HostFile>;
  /** Any regular file of the guest (absolute path; relative means under /mnt/host). */
  download(path: string): Promise<Uint8Array>;
}

const DEFAULT_RUN_TIMEOUT_MS = 30_000;
const DEFAULT_SHELL_TIMEOUT_MS = 120_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export function createAutomationApi(
  client: EmulatorClient,
  /** Boots with the settings asked for, or joins the page's own start (src/page/start-gate.ts). */
  onBoot: (asked: Partial<MachineConfig>) => Promise<void>,
  resets: ResetController,
  /** A picture of the screen for checkpoints taken through the API (synchronous: see checkpoint). */
  thumbnail: () => CheckpointOptions["thumbnail"] = () => undefined,
  /** The page's own start while it runs (resume, boot, share link): calls wait for it, never race it. */
  pageStart: () => Promise<void> | undefined = () => undefined,
  /** A share link opened through the API booted a user's machine: the page follows it. */
  onOwnMachine: (config: MachineConfig) => void = () => undefined,
): Snap86Api {
  // Commands share one console: run them one at a time.
  let queue: Promise<unknown> = Promise.resolve();
  const serialized = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = queue.then(fn, fn);
    queue = next.catch(() => undefined);
    return next;
  };

  const runNow = async (command: string, options?: WaitOptions) => {
    await pageStart();
    // A machine that is just starting (or was just swapped in) reports "running" shortly.
    if (client.state === "loading") await client.whenState("running").catch(() => undefined);
    if (client.state !== "running") throw new Snap86Error("machine-off", `The machine is ${client.state}: boot or resume it before run()`);
    const timeoutMs = options?.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS;
    const machine = client.remote.machine;
    // The built-in guest answers on its automation channel, so the user's terminal stays quiet;
    // a user's own image has only ttyS0, where the command is typed as a person would.
    if (await machine.automationChannel()) return runCommand(client.automation, (text) => void machine.automationInput(text), command, timeoutMs, true);
    return runCommand(client.serial, (text) => void machine.serialInput(text), command, timeoutMs);
  };
  const runWithStatus = (command: string, options?: WaitOptions) => serialized(() => runNow(command, options));

  // Always `client.remote` at call time, never a copy: a reset can swap in the standby's worker.
  const flat = {} as FlatCalls;
  for (const [name, [facet, method]] of Object.entries(FLAT)) {
    const call = (...args: unknown[]) => (client.remote[facet] as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method](...args);
    Object.assign(flat, { [name]: call });
  }

  const files = { files: () => client.remote.files, run: (command: string) => runWithStatus(command) };
  const api: Snap86Api = {
    ...flat,
    upload: (path, data) => uploadFile(files, path, data),
    download: (path) => downloadFile(files, path),
    get facets() {
      return client.remote;
    },
    boot: (config) => onBoot(config ?? {}),
    async waitForShell(options) {
      const deadline = performance.now() + (options?.timeoutMs ?? DEFAULT_SHELL_TIMEOUT_MS);
      // The page may be starting a machine (resume, boot, link): that one is the one to wait for.
      await pageStart();
      if (client.state === "off" || client.state === "error") await api.boot();
      // The serial getty may not be listening yet; typed input would be lost, so keep asking.
      for (;;) {
        const left = deadline - performance.now();
        if (left <= 0) {
          const where = (await client.remote.machine.automationChannel().catch(() => false)) ? "on its automation channel (ttyS1)" : "on ttyS0";
          throw new Snap86Error("timeout", `The guest shell did not answer ${where} in time`);
        }
        if (client.state === "error" || client.state === "off") {
          throw client.lastError ? fromWireError(client.lastError) : new Snap86Error("machine-off", `The machine is ${client.state}`);
        }
        if (client.state !== "running") {
          // Still loading (its "running" often comes just after the reply that started it), or
          // paused by someone else: wait for the change, without spinning.
          await client.nextState(50);
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
          // worker refuses quietly when the boot was not clean, and does not hold the queue for a
          // golden state still streaming in (a first visit's published state).
          await client.remote.reset.captureCleanBoot().catch(() => undefined);
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
      await client.remote.machine.serialInput(text);
    },
    async screenText() {
      return (await client.remote.machine.screenText()).map((row) => row.trimEnd()).join("\n");
    },
    serialText: () => client.serial.since(0),
    // Sent in the same turn as the call: a checkpoint asked for before a reset captures the old session.
    checkpoint: (options) => {
      const picture = options?.thumbnail ?? thumbnail();
      return client.remote.checkpoints.take({ ...options, ...(picture ? { thumbnail: picture } : {}) });
    },
    share: (id, options) => {
      const { signal, ...chosen } = options instanceof AbortSignal ? { signal: options } : (options ?? {});
      return client.remote.share.publish(id, `${location.origin}${location.pathname}`, signal, chosen);
    },
    openShare: async (link, config, signal) => {
      const opened = await client.remote.share.open(link, { ...DEFAULT_CONFIG, ...config }, signal);
      if (opened.config) onOwnMachine(opened.config);
      return opened;
    },
    reset: () => resets.reset(),
    async setResetPoint(id) {
      const point = await client.remote.reset.setResetPoint(id);
      resets.resetPointSet(point);
      return point;
    },
    setStandby: async (enabled) => {
      await resets.standby.setEnabled(enabled);
      if (enabled) resets.refreshStandby();
    },
    standbyStatus: () => resets.standby.status,
    keptImages: () => listKeptImages(),
    async waitForStandby(options) {
      const deadline = performance.now() + (options?.timeoutMs ?? DEFAULT_SHELL_TIMEOUT_MS);
      while (resets.standby.status === "preparing" || (resets.standby.enabled && resets.standby.status === "off")) {
        if (performance.now() > deadline) throw new Snap86Error("timeout", "The standby machine was not ready in time");
        await sleep(50);
      }
      return resets.standby.status;
    },
  };
  return api;
}
