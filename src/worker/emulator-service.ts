/**
 * Owns the one V86 instance of this worker and implements the EmulatorApi the main thread calls.
 * Everything v86-specific stays in src/worker; the rest of the app sees events and plain data.
 */
import { keepTscContinuous, type TscCpu } from "./continuous-tsc";
import { GoldenCheckpoints } from "../reboot/golden-checkpoints";
import { WalkRecorder, type RecorderCpu } from "./lazy/walk-recorder";
import type { PreparedShare } from "../checkpoint/share-bridge";
import { V86 } from "v86";
import wasmUrl from "v86/build/v86.wasm?url";
import type { DriveKind, ImageSource, MachineConfig } from "../shared/machine-config";
import { validateMachineConfig } from "../shared/machine-config";
import type {
  CheckpointInfo,
  CheckpointOptions,
  CheckpointResult,
  DiskInfo,
  EmulatorApi,
  EmulatorEvent,
  DiscardOptions,
  EventListener,
  ResetResult,
  LazyStatus,
  NoticeLevel,
  RestoreOptions,
  RestoreResult,
  ShareResult,
  RunState,
  Stats,
} from "../shared/protocol";
import { fetchWithProgress, LoadError } from "./fetch-with-progress";
import { DiskSession } from "./disk-session";
import { AUTOSAVE_LABEL, CheckpointController, GOLDEN_LABEL, machineKey, type Machine } from "./checkpoint-controller";
import { resetToGolden } from "../reboot/reset";
import { ramView, type EngineEmulator } from "../checkpoint/engine";
import { V86_VERSION } from "../checkpoint/v86-version";
import type { MachineIdentity } from "../checkpoint/manifest";
import { loadBlockHashes, loadFirmware, loadGuestManifest, loadKernel, type KernelFiles } from "./guest-loader";
import { ScreenBridge } from "./screen-bridge";
import { detectLazySupport, type LazySupport } from "./lazy/lazy-support";
import { AutosaveTimer } from "./autosave-timer";
import { RunClock } from "./run-clock";
import { SerialBatcher } from "./serial-batcher";
import { SessionWipe } from "./session-wipe";
import type { V86File, V86Instance, V86Options, V86ScreenAdapter } from "./v86-types";

const MIB = 1024 * 1024;
const STATS_INTERVAL_MS = 1000;
/** Generous: a standby machine starts while another guest keeps both cores busy. */
const START_TIMEOUT_MS = 120_000;
export const DEFAULT_GUEST_URL = "/guest/guest.json";
/** What a hard kill of the browser can lose at most; the page also saves when it is hidden. */

/** Marks buffers to be moved, not copied, when the event crosses to the main thread. */
export type MarkTransfer = <T>(value: T, transfer: Transferable[]) => T;

export class EmulatorService implements EmulatorApi {
  private emulator: V86Instance | undefined;
  /** What the running machine was built from, kept for reboot. */
  private options: V86Options | undefined;
  /** The built-in guest's kernel, fetched on first use: a machine booted for a restore needs it only to reboot. */
  private kernel: (() => Promise<KernelFiles>) | undefined;
  private identity: MachineIdentity | undefined;
  /** Whether this machine runs the instrumented wasm (lazy restore), or why not. */
  private lazySupport: LazySupport = { available: false, reason: "the machine is off" };
  private controller: CheckpointController | undefined;
  private readonly autosave = new AutosaveTimer(() => {
    if (this.runState !== "running" || !this.disk || this.disk.secure) return;
    this.checkpoint({ autosave: true }).catch((e: Error) => this.notice("warning", `Autosave failed: ${e.message}`));
  });
  /** One checkpoint operation at a time: a capture and a restore must never interleave. */
  private checkpointQueue: Promise<unknown> = Promise.resolve();
  private internalStops = 0;
  /** A paused spare machine: no autosaves, its own fresh session disk. */
  private standby = false;
  private readonly golden = new GoldenCheckpoints({
    machineKey: () => (this.identity ? machineKey(this.identity) : undefined),
    guestImageId: () => this.identity?.guestImageId,
    list: () => this.checkpoints().list(),
    remove: (id) => this.checkpoints().remove(id, this.disk),
    consumeCleanBoot: () => {
      const clean = this.cleanBoot;
      this.cleanBoot = false;
      return clean;
    },
    take: () => this.checkpoint({ label: GOLDEN_LABEL }),
    preload: (info) => void this.checkpoints().goldenImage(info).catch(() => undefined),
  });
  /** This machine cold-booted the pristine disk and nothing has been restored into it since. */
  private cleanBoot = false;
  /** The disk was just wiped: the reboot that follows is a boot of the pristine disk. */
  private wiped = false;
  private disk: DiskSession | undefined;
  private readonly wipe = new SessionWipe(() => this.checkpoints());
  private listener: EventListener | undefined;
  private runState: RunState = "off";
  private screen: ScreenBridge | undefined;
  private serial = new SerialBatcher((data) => this.emit({ type: "serial", data }));
  private statsTimer: ReturnType<typeof setInterval> | undefined;
  private readonly clock = new RunClock();

  constructor(private readonly markTransfer: MarkTransfer = (value) => value) {}

  /** One subscriber (the main thread's client); a new one replaces the old, e.g. after a reload. */
  subscribe(listener: EventListener): void {
    this.listener = listener;
    listener({ type: "state", state: this.runState });
    this.screen?.invalidate();
  }

  /**
   * `forRestore`: a checkpoint is restored right after, so the guest must not start running and
   * the kernel is not needed before it (fetched in the background, for a later reboot).
   */
  async boot(input: MachineConfig, forRestore = false): Promise<void> {
    const config = validateMachineConfig(input);
    await this.powerOff();
    this.setState("loading");
    try {
      const options = await this.buildOptions(config, forRestore);
      this.options = options;
      this.cleanBoot = !forRestore && !!this.disk && this.disk.isEmptyOnBase();
      this.emulator = await this.start(options);
      if (this.controller) this.controller.current = null;
      this.scheduleAutosave();
      if (!forRestore && !this.standby) this.cleanUpAfterStart();
    } catch (e) {
      throw await this.failBoot(e);
    }
  }

  /** Powers off and shows why; returns the error for the caller to throw. */
  private async failBoot(e: unknown): Promise<Error> {
    const message = e instanceof Error ? e.message : String(e);
    await this.powerOff();
    this.setState("error", message);
    return new Error(message);
  }

  async pause(): Promise<void> {
    if (!this.emulator || this.runState !== "running") return;
    await this.emulator.stop();
  }

  async resume(): Promise<void> {
    if (!this.emulator || this.runState !== "paused") return;
    const switchedIn = this.standby && this.disk && !this.disk.secure ? this.disk : undefined;
    // A standby switched in on reset: no autosave of the session it replaces may be resumed by a
    // reload from now on, even if the tab closes before the replaced machine has deleted them.
    if (switchedIn) await this.wipe.forgetSession(switchedIn);
    await this.emulator.run();
    if (this.standby) {
      // From now on it is the user's machine.
      this.standby = false;
      this.scheduleAutosave();
      void this.disk?.promoteToSession().catch((e: Error) => this.notice("warning", `This machine's disk may not be resumed after a reload: ${e.message}`));
    }
  }

  /**
   * A power cycle with the same files and disk. v86's own restart() only resets the CPU and
   * BIOS: a kernel it loaded directly (bzImage) is gone from memory and the guest crashes.
   */
  async reboot(): Promise<void> {
    const emulator = this.emulator;
    let options = this.options;
    if (!emulator || !options) throw new Error("The machine is off: boot it first");
    this.cleanBoot = this.wiped || (!!this.disk && this.disk.isEmptyOnBase());
    this.wiped = false;
    // A machine restored from a checkpoint was started without its kernel: a cold boot needs it.
    if (!options.bzimage && this.kernel) options = this.options = { ...options, ...kernelOptions(await this.kernel()), autostart: true };
    this.emulator = undefined;
    await emulator.stop();
    await this.disk?.disk.whenIdle();
    this.stopTimers();
    await emulator.destroy();
    this.serial.flush();
    this.clock.zeroUptime();
    this.setState("loading");
    this.emulator = await this.start(options);
  }

  async powerOff(): Promise<void> {
    const emulator = this.emulator;
    this.emulator = undefined;
    this.options = undefined;
    this.identity = undefined;
    this.stopTimers();
    this.autosave.stop();
    if (emulator) {
      await emulator.destroy();
      this.serial.flush();
    }
    const disk = this.disk;
    this.disk = undefined;
    // Closing flushes: every write the guest made before power-off reaches IndexedDB.
    await disk?.close().catch((e: Error) => this.notice("error", `Saving the disk failed: ${e.message}`));
    this.clock.off();
    if (this.runState !== "off") this.setState("off");
  }

  serialInput(data: string): void {
    this.emulator?.serial0_send(data);
  }

  keyboardInput(scancodes: number[]): void {
    void this.emulator?.keyboard_send_scancodes(scancodes);
  }

  screenText(): string[] {
    return this.screen?.textRows() ?? [];
  }

  diskInfo(): DiskInfo | undefined {
    return this.disk?.info();
  }

  async flushDisk(): Promise<void> {
    await this.disk?.flush();
  }

  async wipeDisk(): Promise<void> {
    const emulator = this.emulator;
    const disk = this.disk;
    if (!emulator || !disk) throw new Error("Wipe needs the built-in guest running");
    await emulator.stop();
    await disk.wipe();
    this.wiped = true;
    // Autosaves froze layers of the session being wiped: they go with it (and their layers), and
    // so do layers frozen by a capture that never finished (a tab closed while it was written).
    await this.wipe.forgetSession(disk);
    await this.wipe.finish(disk);
    this.emit({ type: "disk", disk: disk.info() });
    await this.reboot();
  }

  checkpoint(options?: CheckpointOptions): Promise<CheckpointResult> {
    return this.serializeCheckpoint(async () => {
      const result = await this.checkpoints().take(this.machine(), options);
      if (options?.autosave) await this.dropOlderAutosaves(result.id);
      return result;
    });
  }

  restore(id: string, options?: RestoreOptions): Promise<RestoreResult> {
    return this.serializeCheckpoint(async () => {
      const t0 = performance.now();
      this.cleanBoot = false;
      const outcome = await this.checkpoints().restore(this.machine(), id, options);
      this.screen?.invalidate();
      this.clock.restart();
      return { id, ...outcome, restoreMs: Math.round(performance.now() - t0) };
    });
  }

  async bootFromCheckpoint(config: MachineConfig, id: string, options?: RestoreOptions): Promise<RestoreResult> {
    const t0 = performance.now();
    await this.boot(config, true);
    try {
      const result = await this.restore(id, options);
      this.cleanUpAfterStart();
      return { ...result, restoreMs: Math.round(performance.now() - t0) };
    } catch (e) {
      // The machine never ran and has no kernel: off, with the reason, rather than a dead machine.
      throw await this.failBoot(e);
    }
  }

  lazyStatus(): LazyStatus {
    return this.checkpoints().lazyStatus();
  }

  async shareCheckpoint(id: string, appUrl: string): Promise<ShareResult> {
    return this.checkpoints().share(id, appUrl);
  }

  /**
   * Opens a share link. With lazy restore available, only the device state and the disk layer
   * are fetched first; the guest then runs while its RAM arrives on first touch and by prefetch
   * (the checkpoint is listed once all of it is stored). Otherwise the whole checkpoint is
   * downloaded and restored eagerly. A bad link leaves a running machine untouched.
   */
  async openShare(link: string, config: MachineConfig): Promise<RestoreResult> {
    const t0 = performance.now();
    const controller = this.checkpoints();
    // With no machine to lose, the (kernel-less) machine starts while the first objects download.
    const booting = this.emulator ? undefined : this.boot(config, true);
    booting?.catch(() => undefined);
    let prepared: PreparedShare;
    try {
      prepared = await controller.prepareShare(link);
    } catch (e) {
      if (booting) throw await this.failBoot(e);
      throw e;
    }
    const ready = prepared;
    return this.afterBoot(
      booting,
      config,
      async () => {
        if (ready.kind === "local") return this.restore(ready.id);
        const support = this.lazySupport;
        if (!support.available) {
          // No lazy restore here: download the rest of the checkpoint, then restore it eagerly.
          return this.restore(await controller.openShare(link), { mode: "eager" });
        }
        return this.serializeCheckpoint(async () => {
          this.cleanBoot = false;
          await controller.restoreShared(this.machine(), ready, link, await support.wasm.handle());
          this.screen?.invalidate();
          this.clock.restart();
          return { id: ready.manifest.id, mode: "lazy" as const, restoreMs: 0 };
        });
      },
      t0,
    );
  }

  /** Finishes a boot-for-restore (started before, or now) and runs `restore`; failures power off. */
  private async afterBoot(booting: Promise<void> | undefined, config: MachineConfig, restore: () => Promise<RestoreResult>, t0: number): Promise<RestoreResult> {
    try {
      await (booting ?? this.boot(config, true));
      const result = await restore();
      this.cleanUpAfterStart();
      return { ...result, restoreMs: Math.round(performance.now() - t0) };
    } catch (e) {
      throw await this.failBoot(e);
    }
  }

  listCheckpoints(): Promise<CheckpointInfo[]> {
    return this.checkpoints().list();
  }

  labelCheckpoint(id: string, label: string): Promise<void> {
    return this.checkpoints().label(id, label);
  }

  deleteCheckpoint(id: string): Promise<void> {
    this.golden.forget(id);
    return this.serializeCheckpoint(() => this.checkpoints().remove(id, this.disk));
  }

  exportCheckpoint(id: string): Promise<Blob> {
    return this.checkpoints().exportFile(id);
  }

  importCheckpoint(file: Blob): Promise<CheckpointInfo> {
    return this.checkpoints().importFile(file);
  }

  setAutosaveInterval(seconds: number): void {
    this.autosave.seconds = seconds;
    this.scheduleAutosave();
  }

  measureV86State(): Promise<{ saveMs: number; restoreMs: number; bytes: number }> {
    return this.serializeCheckpoint(async () => {
      const emulator = this.emulator;
      if (!emulator) throw new Error("The machine is off");
      await emulator.stop();
      await this.disk?.disk.whenIdle();
      const t0 = performance.now();
      const state = await emulator.save_state();
      const t1 = performance.now();
      await emulator.restore_state(state);
      const t2 = performance.now();
      await emulator.run();
      return { saveMs: t1 - t0, restoreMs: t2 - t1, bytes: state.byteLength };
    });
  }

  /** Concurrent callers (the page after boot, a test fixture) share one capture. */
  ensureGolden(): Promise<CheckpointInfo> {
    return this.golden.ensure();
  }

  /**
   * Back to the golden state in place. Resolves once the session is gone for good: the machine
   * runs the golden state (resetMs) after nothing is left that a reload could resume it from, and
   * its disk blocks and checkpoint chunks are deleted before this resolves (see session-wipe.ts).
   */
  reset(): Promise<ResetResult> {
    return this.serializeCheckpoint(async () => {
      const t0 = performance.now();
      const golden = await this.golden.find();
      if (!golden) throw new Error("No clean booted state yet: it is saved when the shell first answers after a cold boot");
      const controller = this.checkpoints();
      const image = await controller.goldenImage(golden);
      const machine = this.machine();
      // Pages a lazy restore would still load must not land on top of the golden RAM.
      await controller.endLazy(machine.emulator);
      await resetToGolden(machine, image, true);
      await this.wipe.forgetSession(machine.disk);
      await machine.emulator.run();
      controller.lazy.ramReplaced();
      controller.current = golden.id;
      this.screen?.invalidate();
      this.clock.zeroUptime();
      this.clock.restart();
      const ranAt = performance.timeOrigin + performance.now();
      await this.wipe.finish(machine.disk);
      return { resetMs: ranAt - performance.timeOrigin - t0, ranAt };
    });
  }

  /** Deletions a closed tab cut short, finished in the background once this machine runs. */
  private cleanUpAfterStart(): void {
    if (this.standby) return;
    this.wipe.startCleanup(this.disk, (message) => this.notice("error", `Cleaning up deleted data failed: ${message}`));
  }

  /** Resolves once the start cleanup and every deletion of session data started so far are over. */
  settleStorage(): Promise<void> {
    return this.wipe.settled(this.disk);
  }

  async prepareStandby(config: MachineConfig, goldenId: string): Promise<void> {
    this.standby = true;
    this.autosave.stop();
    await this.boot(config, true);
    const golden = (await this.checkpoints().list()).find((c) => c.id === goldenId);
    if (!golden) throw new Error(`golden checkpoint ${goldenId} is gone`);
    await this.serializeCheckpoint(async () => {
      const image = await this.checkpoints().goldenImage(golden);
      await resetToGolden(this.machine(), image, true);
      this.checkpoints().current = golden.id;
    });
  }

  async discardSession(options: DiscardOptions = {}): Promise<void> {
    this.autosave.stop();
    // A checkpoint being written must finish first: its writer is a worker of this worker.
    await this.controller?.idle();
    const emulator = this.emulator;
    const disk = this.disk;
    this.emulator = undefined;
    this.disk = undefined;
    this.stopTimers();
    await emulator?.destroy();
    this.setState("off");
    if (!disk) return;
    // This worker is terminated right after: everything must be deleted before this resolves.
    const ended = options.endedAt !== undefined && !disk.secure;
    await disk.discard();
    if (ended) {
      await this.wipe.forgetSession(disk, options.endedAt);
      await this.wipe.finish(disk);
    }
  }

  ramContains(text: string): Promise<boolean> {
    const emulator = this.emulator;
    if (!emulator) throw new Error("The machine is off");
    const needle = new TextEncoder().encode(text);
    const ram = ramView(emulator as unknown as EngineEmulator);
    // indexOf on the first byte, then compare: fast enough for 128 MiB in a test.
    for (let i = ram.indexOf(needle[0]); i >= 0 && i <= ram.length - needle.length; i = ram.indexOf(needle[0], i + 1)) {
      let j = 1;
      while (j < needle.length && ram[i + j] === needle[j]) j++;
      if (j === needle.length) return Promise.resolve(true);
    }
    return Promise.resolve(false);
  }


  /** A standby machine never autosaves: it is nobody's session until it is switched in. */
  private scheduleAutosave(): void {
    if (this.standby) this.autosave.stop();
    else this.autosave.start();
  }

  private async dropOlderAutosaves(keep: string): Promise<void> {
    const older = (await this.checkpoints().list()).filter((c) => c.label === AUTOSAVE_LABEL && c.id !== keep);
    for (const c of older) await this.checkpoints().remove(c.id, this.disk);
  }

  /**
   * Checkpoint operations stop and restart the emulator internally; the run state the user sees
   * should not blink to "paused" for those milliseconds, so stop/start events are held back and
   * the state is settled once the operation is over.
   */
  private serializeCheckpoint<T>(op: () => Promise<T>): Promise<T> {
    const fn = async () => {
      this.internalStops += 1;
      try {
        return await op();
      } finally {
        this.internalStops -= 1;
        if (this.emulator && this.internalStops === 0) {
          const running = this.emulator.is_running();
          if (running && this.runState !== "running") this.clock.restart();
          this.setState(running ? "running" : "paused");
        }
      }
    };
    const next = this.checkpointQueue.then(fn, fn);
    this.checkpointQueue = next.catch(() => undefined);
    return next;
  }

  private checkpoints(): CheckpointController {
    this.controller ??= new CheckpointController((event) => this.emit(event));
    return this.controller;
  }

  private machine(): Machine {
    if (!this.emulator || !this.identity) throw new Error("Checkpoints need the built-in guest running: boot it first");
    if (!this.disk) throw new Error("Checkpoints need the built-in guest's layered disk (not the plain in-memory disk)");
    if (this.disk.secure) {
      throw new Error(
        this.disk.lockedElsewhere
          ? "This tab runs on a temporary disk because the disk is open in another tab: checkpoints are off"
          : "Checkpoints are off in a secure session: nothing of it may reach storage",
      );
    }
    return { emulator: this.emulator as unknown as Machine["emulator"], disk: this.disk, identity: this.identity, lazy: this.lazySupport };
  }

  stats(): Stats {
    return this.clock.stats(this.runState);
  }

  private async buildOptions(config: MachineConfig, forRestore: boolean): Promise<V86Options> {
    const progress = (p: { label: string; loaded: number; total: number }) => this.emit({ type: "progress", progress: p });
    const guestUrl = config.guestUrl ?? DEFAULT_GUEST_URL;
    this.lazySupport = await detectLazySupport();
    // The loader worker and its IndexedDB handles take tens of ms to start: not on the first restore's path.
    if (this.lazySupport.available) this.checkpoints().lazy.warm();
    const base: Omit<V86Options, "bios" | "vga_bios"> = {
      ...(this.lazySupport.available ? { wasm_fn: this.lazySupport.wasm.wasm_fn as V86Options["wasm_fn"] } : { wasm_path: wasmUrl }),
      memory_size: config.memoryMiB * MIB,
      vga_memory_size: config.vgaMemoryMiB * MIB,
      autostart: !forRestore,
      disable_keyboard: true, // v86's keyboard adapter listens on window; keys come via keyboardInput
      disable_mouse: true,
      disable_speaker: true,
    };
    if (config.image) {
      const { manifest, baseUrl } = await loadGuestManifest(guestUrl);
      const [{ bios, vgaBios }, disk] = await Promise.all([
        loadFirmware(baseUrl, manifest, progress),
        this.loadImage(config.image, progress),
      ]);
      return { ...base, bios: { buffer: bios }, vga_bios: { buffer: vgaBios }, ...driveOption(config.image.kind, disk) };
    }
    const { manifest, baseUrl } = await loadGuestManifest(guestUrl);
    // A machine booted for a restore needs no kernel until a reboot: fetching it then keeps its
    // 7 MiB off the network while a shared checkpoint's first chunks are wanted.
    let kernel: Promise<KernelFiles> | undefined;
    this.kernel = () => (kernel ??= loadKernel(baseUrl, manifest, forRestore ? () => undefined : progress));
    const [{ bios, vgaBios }, kernelFiles] = await Promise.all([loadFirmware(baseUrl, manifest, progress), forRestore ? undefined : this.kernel()]);
    const guest = { manifest, baseUrl, bios, vgaBios };
    this.identity = {
      memoryBytes: config.memoryMiB * MIB,
      vgaMemoryBytes: config.vgaMemoryMiB * MIB,
      v86Version: V86_VERSION,
      guestImageId: guest.manifest.inputsHash,
    };
    const disk = guest.manifest.files.disk;
    const diskUrl = new URL(disk.path, guest.baseUrl).href;
    let hda: V86File;
    if (config.disk === "memory") {
      hda = { buffer: await fetchWithProgress(diskUrl, "disk image", progress, disk.size) };
    } else {
      this.disk = await DiskSession.open({
        url: diskUrl,
        file: disk,
        blockHashes: await loadBlockHashes(guest.baseUrl, guest.manifest),
        secure: config.disk === "secure",
        freshSession: this.standby,
        notice: (level, message) => this.notice(level, message),
      });
      hda = this.disk.disk;
    }
    return {
      ...base,
      bios: { buffer: guest.bios },
      vga_bios: { buffer: guest.vgaBios },
      ...(kernelFiles ? kernelOptions(kernelFiles) : {}),
      hda,
    };
  }

  private async loadImage(image: ImageSource, progress: (p: { label: string; loaded: number; total: number }) => void) {
    if ("bytes" in image) return { buffer: image.bytes };
    const name = decodeURIComponent(new URL(image.url, self.location.href).pathname.split("/").pop() || "image");
    const buffer = await fetchWithProgress(image.url, name, progress, undefined, true);
    if (buffer.byteLength === 0) throw new LoadError(`The image at ${image.url} is empty`);
    return { buffer };
  }

  private start(options: V86Options): Promise<V86Instance> {
    return new Promise((resolve, reject) => {
      const emulator = new V86(options as never) as unknown as V86Instance;
      const screen = new ScreenBridge(
        () => emulator.v86?.cpu?.devices?.vga,
        (frame, transfer) => this.emit(this.markTransfer({ type: "screen", frame }, transfer)),
      );
      // v86 creates its (dummy) screen adapter only after its wasm has loaded; catch the moment
      // it is assigned so our bridge is in place before the VGA device first draws.
      let adapter: V86ScreenAdapter | undefined;
      Object.defineProperty(emulator, "screen_adapter", {
        configurable: true,
        enumerable: true,
        get: () => adapter,
        set: (value: V86ScreenAdapter) => {
          adapter = value;
          screen.attach(value);
        },
      });
      this.screen = screen;
      const timeout = setTimeout(() => reject(new LoadError(`The emulator did not start within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
      emulator.add_listener("serial0-output-byte", (byte: number) => this.serial.push(byte));
      // Before any restore can run: v86's set_tsc would move the guest clock on every restore.
      emulator.add_listener("emulator-loaded", () => {
        keepTscContinuous(emulator.v86.cpu as unknown as TscCpu);
        this.recordWalks(emulator);
      });
      emulator.add_listener("emulator-started", () => {
        if (this.emulator === emulator && this.internalStops > 0) return;
        clearTimeout(timeout);
        this.clock.started(emulator.get_instruction_counter());
        this.setState("running");
        resolve(emulator);
      });
      if (!options.autostart) {
        // Booted for a restore: ready once loaded, and it never ran (no BIOS, no kernel).
        emulator.add_listener("emulator-loaded", () => {
          clearTimeout(timeout);
          this.setState("paused");
          resolve(emulator);
        });
      }
      emulator.add_listener("emulator-stopped", () => {
        if (this.emulator !== emulator || this.internalStops > 0) return;
        this.clock.stopped();
        this.setState("paused");
      });
      this.statsTimer = setInterval(() => this.sampleStats(emulator), STATS_INTERVAL_MS);
    });
  }

  /** With the instrumented wasm, the machine's page walks feed the working set of its checkpoints. */
  private recordWalks(emulator: V86Instance): void {
    const support = this.lazySupport;
    if (!support.available) return;
    void support.wasm.handle().then(
      (handle) => {
        if (this.emulator !== emulator && this.emulator !== undefined) return;
        this.checkpoints().lazy.attachRecorder(new WalkRecorder(emulator.v86.cpu as unknown as RecorderCpu, handle));
      },
      () => undefined,
    );
  }

  private stopTimers(): void {
    clearInterval(this.statsTimer);
    this.screen?.detach();
    this.screen = undefined;
  }

  private sampleStats(emulator: V86Instance): void {
    this.clock.sample(emulator.get_instruction_counter());
    this.emit({ type: "stats", stats: this.stats() });
    if (this.disk) this.emit({ type: "disk", disk: this.disk.info() });
  }

  private notice(level: NoticeLevel, message: string): void {
    this.emit({ type: "notice", level, message });
  }

  private setState(state: RunState, error?: string): void {
    this.runState = state;
    this.emit({ type: "state", state, ...(error ? { error } : {}) });
  }

  private emit(event: EmulatorEvent): void {
    this.listener?.(event);
  }
}

function kernelOptions(k: KernelFiles): Pick<V86Options, "bzimage" | "initrd" | "cmdline"> {
  return { bzimage: { buffer: k.bzimage }, initrd: { buffer: k.initrd }, cmdline: k.cmdline };
}

function driveOption(kind: DriveKind, file: V86File): Pick<V86Options, "hda" | "cdrom" | "fda"> {
  return { [kind]: file };
}
