/**
 * The one owner of the emulator worker's machine state: the V86 instance, its disk session, run
 * state, timers and the event subscription. The facets (machine-facet.ts, disk-facet.ts, ...) hold
 * no state of their own; they act through this object, so they agree on which machine runs.
 */
import type { CheckpointOptions, CheckpointResult, EmulatorEvent, EventListener, NoticeLevel, RunState, Stats } from "../protocol";
import type { MachineConfig } from "../protocol/machine-config";
import { userDrives, validateMachineConfig } from "../protocol/machine-config";
import type { MachineIdentity } from "../checkpoint/manifest";
import { LoadError } from "../guest/fetch-with-progress";
import type { KernelFiles } from "../guest/guest-loader";
import { createV86, dirtyPagesFor, vgaOf, walkRecorderFor } from "../v86/machine";
import { MemoryTracking } from "./memory-tracking";
import type { TscCpu } from "../v86/continuous-tsc";
import { ScreenBridge } from "../v86/screen-bridge";
import type { LazySupport } from "../v86/lazy-support";
import type { V86Instance, V86Options } from "../v86/types";
import { AutosaveTimer, CONTINUOUS_SAVE_SECONDS, PERIODIC_SAVE_SECONDS } from "./autosave-timer";
import { CheckpointController, machineKey, GOLDEN_LABEL, type Machine } from "./checkpoint-controller";
import type { DiskSession } from "./disk-session";
import { GoldenCheckpoints } from "./golden-checkpoints";
import { BootInputsAhead } from "./boot-inputs";
import { buildMachineOptions } from "./machine-options";
import { RunClock } from "./run-clock";
import { SerialBatcher } from "./serial-batcher";
import { SessionWipe } from "./session-wipe";
import { NetworkLink } from "./network-link";
import { asSnap86Error, Snap86Error, toWireError, type WireError } from "../protocol/errors";
import { describeDrives, openUserDrives, type UserImage, type WritableDrive } from "./user-drives";
import { checkpointsOffFor, machineFieldsOf, machineOf, writableDisksOf } from "./running-machine";
import { LayerStore, type V86Disk } from "../disk";

const STATS_INTERVAL_MS = 1000;
/** Generous: a standby machine starts while another guest keeps both cores busy. */
const START_TIMEOUT_MS = 120_000;

/** Marks buffers to be moved, not copied, when the event crosses to the main thread. */
export type MarkTransfer = <T>(value: T, transfer: Transferable[]) => T;

export class MachineOwner {
  emulator: V86Instance | undefined;
  /** What the running machine was built from, kept for reboot. */
  options: V86Options | undefined;
  /** The built-in guest's kernel, fetched on first use: a machine booted for a restore needs it only to reboot. */
  kernel: (() => Promise<KernelFiles>) | undefined;
  identity: MachineIdentity | undefined;
  /** Whether this machine runs the instrumented wasm (lazy restore), or why not. */
  lazySupport: LazySupport = { available: false, reason: "the machine is off" };
  readonly bootInputs = new BootInputsAhead();
  disk: DiskSession | undefined;
  /** A user's writable drives (copy-on-write overlays): flushed and closed at power-off. */
  userDrives: DiskSession[] = [];
  /** The drive each of userDrives sits in. */
  userDriveKinds: WritableDrive[] = [];
  /** A user's CD-ROM (read-only: no session, but reads a checkpoint waits for). */
  userReadOnly: V86Disk[] = [];
  /** A user's machine in a secure session (a machine of CD-ROMs only has no disk to say so). */
  secureSession = false;
  runState: RunState = "off";
  /** A paused spare machine: no autosaves, its own fresh session disk. */
  standby = false;
  /** This machine cold-booted the pristine disk and nothing has been restored into it since. */
  cleanBoot = false;
  /** The disk was just wiped: the reboot that follows is a boot of the pristine disk. */
  wiped = false;
  /** Set by the checkpoints facet: autosaves and the golden checkpoint are taken through it. */
  takeCheckpoint: (options?: CheckpointOptions) => Promise<CheckpointResult> = () => Promise.reject(new Error("no checkpoints facet"));
  readonly autosave = new AutosaveTimer({
    save: async () => {
      // Not while a lazy restore still loads RAM: the capture would wait for all of it, holding
      // every checkpoint operation (a reset too) behind it.
      if (this.runState === "running" && this.checkpointsOff() === undefined && !this.controller?.lazy.active) await this.takeCheckpoint({ autosave: true });
    },
    automaticSeconds: () => (this.lazySupport.available ? CONTINUOUS_SAVE_SECONDS : PERIODIC_SAVE_SECONDS),
    failed: (message) => this.notice("warning", `Autosave failed: ${message}`),
  });
  readonly golden = new GoldenCheckpoints({
    machineKey: () => (this.identity ? machineKey(this.identity) : undefined),
    guestImageId: () => this.identity?.guestImageId,
    list: () => this.checkpoints().list(),
    remove: (id) => this.checkpoints().remove(id, this.writableDisks()),
    consumeCleanBoot: () => {
      const clean = this.cleanBoot;
      this.cleanBoot = false;
      return clean;
    },
    take: () => this.takeCheckpoint({ label: GOLDEN_LABEL }),
    preload: (info) => void this.checkpoints().goldenImage(info).catch(() => undefined),
    arriving: () => this.checkpoints().sharedStored,
  });
  readonly wipe = new SessionWipe(() => this.checkpoints());
  readonly clock = new RunClock();
  readonly serial = new SerialBatcher((data) => this.emit({ type: "serial", data }));
  readonly automation = new SerialBatcher((data) => this.emit({ type: "automation", data }));
  readonly network = new NetworkLink((status, origin) => this.emit({ type: "network", status, origin }));
  /** The built-in guest's guest.json names an automation shell on COM2. */
  guestAutomation = false;
  /** The running guest has that shell: a cold boot of such a guest, or a restore of a state that had COM2. */
  automationChannel = false;
  private controller: CheckpointController | undefined;
  /** One checkpoint operation at a time: a capture and a restore must never interleave. */
  private checkpointQueue: Promise<unknown> = Promise.resolve();
  private internalStops = 0;
  private listener: EventListener | undefined;
  private screen: ScreenBridge | undefined;
  private statsTimer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly markTransfer: MarkTransfer) {
    // v86 runs the guest from timer callbacks, so a fault of its wasm (code it cannot run, such as
    // memtest86+'s) surfaces here, uncaught, with the machine dead: say so instead of "running".
    globalThis.addEventListener?.("error", (e: ErrorEvent) => {
      // `options` is set from before v86 starts: the fault can come in its very first tick.
      if (!(e.error instanceof WebAssembly.RuntimeError) || !this.options) return;
      e.preventDefault();
      void this.crashed(e.error);
    });
  }

  private async crashed(error: Error): Promise<void> {
    const failure = new Snap86Error("internal", `The emulator stopped: v86 cannot run this machine any further (${error.message}). Nothing saved was lost.`);
    // A fault in the first tick comes before boot() has taken the machine (its start promise
    // settles in this task's microtasks): let it, then power off what it took.
    await new Promise((resolve) => setTimeout(resolve, 0));
    // Dropped, not destroyed: v86's stop waits for its main loop, which the fault ended.
    this.emulator = undefined;
    await this.powerOff().catch(() => undefined);
    this.setState("error", toWireError(failure));
  }

  /** One subscriber (the main thread's client); a new one replaces the old, e.g. after a reload. */
  subscribe(listener: EventListener): void {
    this.listener = listener;
    listener({ type: "state", state: this.runState, ...machineFieldsOf(this) });
    this.screen?.invalidate();
  }

  /**
   * `forRestore`: a checkpoint is restored right after, so the guest must not start running and
   * the kernel is not needed before it (fetched in the background, for a later reboot).
   */
  async boot(input: MachineConfig, forRestore = false): Promise<void> {
    const config = validateMachineConfig(input);
    // A user's images are opened and checked (size known, first block read) before the running
    // machine is touched: a wrong URL, a web page or an empty file must not cost the session that runs.
    let images: UserImage[] | undefined;
    const sources = userDrives(config);
    if (sources.length > 0) {
      try {
        const store = config.disk === "secure" ? null : await LayerStore.open();
        // What opening says (a file too large to keep) joins the drives' line; later notices
        // (a file now kept) go out as they come.
        const held: string[] = [];
        let holding = true;
        images = await openUserDrives(sources, {
          progress: (p) => this.emit({ type: "progress", progress: p }),
          db: store?.db ?? null,
          keep: config.disk !== "secure",
          notice: (level, message) => (holding ? held.push(message) : this.notice(level, message)),
        });
        holding = false;
        this.notice(held.length > 0 ? "warning" : "info", [describeDrives(images), ...held].join(" "));
      } catch (e) {
        if (this.emulator) throw asSnap86Error(e);
        throw await this.failBoot(e);
      }
    }
    await this.powerOff();
    this.setState("loading");
    try {
      const options = await buildMachineOptions(this, config, forRestore, images);
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

  /** Powers off and shows why; returns the error (with its code) for the caller to throw. */
  async failBoot(e: unknown): Promise<Snap86Error> {
    const error = asSnap86Error(e);
    await this.powerOff();
    // Cancelled by the user: off, not failed.
    if (error.code !== "aborted") this.setState("error", toWireError(error));
    return error;
  }

  async powerOff(): Promise<void> {
    // A session save under way ends first (never inside serialize: this would wait for itself).
    this.autosave.stop();
    await this.checkpointQueue;
    const emulator = this.emulator;
    this.emulator = undefined;
    this.options = undefined;
    this.identity = undefined;
    this.stopTimers();
    this.network.detach();
    if (emulator) {
      await emulator.destroy();
      this.serial.flush();
      this.automation.flush();
    }
    const disk = this.disk;
    this.disk = undefined;
    const drives = this.userDrives;
    this.userDrives = [];
    this.userDriveKinds = [];
    this.userReadOnly = [];
    // Closing flushes: every write the guest made before power-off reaches IndexedDB.
    for (const d of [disk, ...drives]) await d?.close().catch((e: Error) => this.notice("error", `Saving the disk failed: ${e.message}`));
    this.clock.off();
    if (this.runState !== "off") this.setState("off");
  }

  /** Finishes a boot-for-restore (started before, or now) and runs `restore`; failures power off. */
  async afterBoot<R extends { restoreMs: number }>(booting: Promise<void> | undefined, config: MachineConfig, restore: () => Promise<R>, t0: number): Promise<R> {
    try {
      await (booting ?? this.boot(config, true));
      const result = await restore();
      this.cleanUpAfterStart();
      return { ...result, restoreMs: Math.round(performance.now() - t0) };
    } catch (e) {
      throw await this.failBoot(e);
    }
  }

  /** After RAM was replaced under a running screen: redraw everything, count run time anew. */
  ramReplaced(): void {
    this.screen?.invalidate();
    this.network.restored();
    this.clock.restart();
  }

  screenText(): string[] {
    return this.screen?.textRows() ?? [];
  }

  stats(): Stats {
    return this.clock.stats(this.runState, this.emulator?.v86?.cpu as unknown as TscCpu | undefined);
  }

  /** Deletions a closed tab cut short, finished in the background once this machine runs. */
  cleanUpAfterStart(): void {
    if (this.standby) return;
    // Its deletions lock the chunk store a lazy restore's first faults read: it waits for all of RAM.
    const restoring = this.controller?.lazy.active ? this.controller.lazy.settle().catch(() => undefined) : undefined;
    void Promise.resolve(restoring).then(() => this.wipe.startCleanup(this.writableDisks(), (message) => this.notice("error", `Cleaning up deleted data failed: ${message}`)));
  }

  /** A standby machine never autosaves: it is nobody's session until it is switched in. */
  scheduleAutosave(): void {
    if (this.standby) this.autosave.stop();
    else this.autosave.start();
  }

  /**
   * Checkpoint operations stop and restart the emulator internally; the run state the user sees
   * should not blink to "paused" for those milliseconds, so stop/start events are held back and
   * the state is settled once the operation is over.
   */
  serialize<T>(op: () => Promise<T>): Promise<T> {
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

  /** The checkpoint side of this worker (its I/O worker starts on first use). */
  checkpoints(): CheckpointController {
    this.controller ??= new CheckpointController((event) => this.emit(event));
    return this.controller;
  }

  /** Started already, for waits that must not spawn the checkpoint-I/O worker. */
  get startedCheckpoints(): CheckpointController | undefined {
    return this.controller;
  }

  /** The writable disks of the running machine: the built-in guest's, or each of a user's drives. */
  writableDisks(): DiskSession[] {
    return writableDisksOf(this);
  }

  /** The running machine's identity key (machineKey), if a machine runs. */
  machineKey(): string | undefined {
    return this.identity ? machineKey(this.identity) : undefined;
  }

  /** Why checkpoints cannot be taken of the running machine (an error with its code), or undefined. */
  checkpointsOff(): Snap86Error | undefined {
    return checkpointsOffFor(this);
  }

  /** The running machine as checkpoint operations need it, or why there is none. */
  machine(): Machine {
    return machineOf(this);
  }

  start(options: V86Options): Promise<V86Instance> {
    return new Promise((resolve, reject) => {
      let screen: ScreenBridge | undefined;
      const emulator = createV86(
        options,
        (adapter) => screen?.attach(adapter),
        // A state from before every machine had COM2: its guest answers only on ttyS0.
        (present) => (this.automationChannel = this.guestAutomation && present),
      );
      screen = new ScreenBridge(
        () => vgaOf(emulator),
        (frame, transfer) => this.emit(this.markTransfer({ type: "screen", frame }, transfer)),
      );
      this.screen = screen;
      this.network.attach(emulator);
      const timeout = setTimeout(() => reject(new LoadError("timeout", `The emulator did not start within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
      emulator.add_listener("serial0-output-byte", (byte: number) => this.serial.push(byte));
      emulator.add_listener("serial1-output-byte", (byte: number) => this.automation.push(byte));
      emulator.add_listener("emulator-loaded", () => this.recordWalks(emulator));
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

  /** With the instrumented wasm, the machine's page walks feed the working set of its checkpoints and dirty tracking. */
  private recordWalks(emulator: V86Instance): void {
    const support = this.lazySupport;
    if (!support.available) return;
    void support.wasm.handle().then(
      (handle) => {
        if (this.emulator !== emulator && this.emulator !== undefined) return;
        const controller = this.checkpoints();
        controller.lazy.attachRecorder(walkRecorderFor(emulator, handle));
        // Captures read only what changed, resets copy back only what changed (docs/memory-tracking.md).
        controller.tracking?.close();
        controller.tracking = new MemoryTracking(dirtyPagesFor(emulator, handle));
      },
      () => undefined,
    );
  }

  stopTimers(): void {
    clearInterval(this.statsTimer);
    this.screen?.detach();
    this.screen = undefined;
  }

  private sampleStats(emulator: V86Instance): void {
    this.clock.sample(emulator.get_instruction_counter());
    this.emit({ type: "stats", stats: this.stats() });
    const disk = this.disk ?? this.userDrives[0];
    if (disk) this.emit({ type: "disk", disk: disk.info() });
  }

  notice(level: NoticeLevel, message: string): void {
    this.emit({ type: "notice", level, message });
  }

  setState(state: RunState, error?: WireError): void {
    this.runState = state;
    this.emit({ type: "state", state, ...(error ? { error } : {}), ...machineFieldsOf(this) });
  }


  emit(event: EmulatorEvent): void {
    this.listener?.(event);
  }
}
