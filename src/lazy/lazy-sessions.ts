// The checkpoint controller's side of lazy restore: one loader worker for the machine's life,
// at most one active LazyRestore, the 4 Hz status events, and what happens when a chunk fails.
import type { CheckpointManifest } from "../protocol/checkpoint-data";
import type { EmulatorEvent, LazyStatus } from "../protocol";
import type { OpenedShareLink } from "../protocol/checkpoint-io";
import { LazyFaultError } from "./fault-channel";
import type { LazyCpu } from "../v86/lazy-ram";
import { LazyRestore, type LoaderPort } from "./lazy-restore";
import type { LazyWasmHandle } from "../v86/instrumented-wasm";
import type { LocalChunks } from "./local-chunks";
import type { WalkRecorder } from "../v86/walk-recorder";
import { Snap86Error } from "../protocol/errors";
import { restoreStateKeepingRam } from "../v86/state";

const STATUS_INTERVAL_MS = 250;

export interface LazyStatusDetail extends LazyStatus {
  /** Bytes of non-zero chunks fetched because the guest touched them (not prefetch). */
  faultBytes: number;
}

/** What of the V86 wrapper this module touches (v86 0.5.462 property names). */
export interface LazyEmulator {
  v86: { cpu: unknown; restore_state(state: ArrayBuffer): void; running: boolean; stopping: boolean };
  /** The bus end v86 itself sends on: listeners of the V86 wrapper hear it. */
  emulator_bus: { send(event: string, value?: unknown): void };
}

export class LazyRestores {
  #loader: LoaderPort | null = null;
  #active: LazyRestore | null = null;
  #timer: ReturnType<typeof setInterval> | undefined;
  /** Set when a chunk failed: the guest's RAM is partly missing until another restore. */
  #failure: string | null = null;
  /** Holds the page-walk hook whenever no lazy restore does (see walk-recorder.ts). */
  #recorder: WalkRecorder | null = null;

  constructor(
    private readonly emit: (event: EmulatorEvent) => void,
    private readonly makeLoader: () => LoaderPort = () =>
      new Worker(new URL("../workers/ram-loader.ts", import.meta.url), { type: "module", name: "ram-loader" }) as unknown as LoaderPort,
  ) {}

  /** A new machine with the instrumented wasm: its walks are recorded from now on. */
  attachRecorder(recorder: WalkRecorder | null): void {
    this.#recorder?.disarm();
    this.#recorder = recorder;
    if (!this.#active?.active) recorder?.arm();
  }

  /** An eager restore or a reset replaced all of RAM: the recorder starts over. */
  ramReplaced(): void {
    this.#recorder?.forget();
  }

  /** RAM pages the running guest used in the last seconds (empty without a recorder). */
  hotPages(): number[] {
    return this.#recorder?.hotPages() ?? [];
  }

  /** Starts the loader worker ahead of the first lazy restore (it opens its stores on "warm"). */
  warm(share?: OpenedShareLink): void {
    this.#ensureLoader().postMessage({ type: "warm", ...(share ? { share } : {}) });
  }

  /** Has the loader read a session save's working set and first chunks ahead of its restore (a reload's, while the machine is built). */
  preloadResume(checkpointId: string, resumeKey: string): void {
    this.#ensureLoader().postMessage({ type: "warm", resume: { checkpointId, resumeKey } });
  }

  /** Called when a shared checkpoint opened lazily is complete in this browser (and listed). */
  onShareStored: (() => void) | undefined;

  #ensureLoader(): LoaderPort {
    if (this.#loader) return this.#loader;
    const loader = this.makeLoader();
    loader.addEventListener("message", (event) => {
      if (event.data.type === "stored") this.onShareStored?.();
    });
    this.#loader = loader;
    return loader;
  }

  /** LazyStatus plus the bytes faults fetched (benchmarks read it from the status line). */
  status(): LazyStatusDetail {
    const p = this.#active?.progress();
    if (!p || !p.active) {
      return { active: false, residentPages: p?.totalPages ?? 0, totalPages: p?.totalPages ?? 0, faults: p?.faults ?? 0, faultBytes: p?.faultBytes ?? 0 };
    }
    return { active: true, residentPages: p.residentPages, totalPages: p.totalPages, faults: p.faults, faultBytes: p.faultBytes };
  }

  /** The last lazy restore failed; the guest is stopped with RAM partly missing. */
  get failed(): boolean {
    return this.#failure !== null;
  }

  /** The active session, for benchmarks and tests. */
  get active(): LazyRestore | null {
    return this.#active?.active ? this.#active : null;
  }

  /**
   * Before a capture: RAM must be complete. Waits for the background prefetch (the guest keeps
   * running meanwhile); refuses if the last lazy restore failed.
   */
  async settle(): Promise<void> {
    if (this.#failure) throw new Snap86Error("lazy-fault", `${this.#failure}. Restore a checkpoint before taking a new one.`);
    await this.#active?.complete();
    if (this.#failure) throw new Snap86Error("lazy-fault", `${this.#failure}. Restore a checkpoint before taking a new one.`);
  }

  /** Drops an unfinished session; only with the emulator stopped and about to get all of RAM. */
  abortActive(): void {
    const wasActive = this.#active?.active ?? false;
    this.#active?.abort();
    this.#active = null;
    this.#failure = null;
    this.#stopTimer();
    this.#recorder?.arm();
    if (wasActive) this.#publish();
  }

  /** Applies the device state with RAM lazy. The emulator is stopped; the caller runs it. */
  async start(
    emulator: LazyEmulator,
    wasm: LazyWasmHandle,
    loaded: { manifest: CheckpointManifest; deviceState: ArrayBuffer },
    local?: LocalChunks,
    options: {
      share?: OpenedShareLink;
      /** RAM is the checkpoint's now, before anything writes to it (dirty tracking restarts here). */
      onRestored?: () => void;
      /** A resume of the machine's session (see BeginMessage.resumeKey). */
      resumeKey?: string;
    } = {},
  ): Promise<void> {
    const { share, onRestored, resumeKey } = options;
    this.abortActive();
    this.#recorder?.disarm();
    const loader = this.#ensureLoader();
    const id = loaded.manifest.id;
    let restore: LazyRestore;
    try {
      restore = await LazyRestore.start({
      cpu: emulator.v86.cpu as LazyCpu,
      wasm,
      manifest: loaded.manifest,
      loader,
      ...(local ? { local } : {}),
      ...(share ? { share } : {}),
      ...(resumeKey ? { resumeKey } : {}),
      restoreState: () => restoreStateKeepingRam(emulator, loaded.deviceState),
      ...(onRestored ? { onRestored } : {}),
      onFatal: (error) => this.#fatal(emulator, id, error),
      onComplete: (touched) => {
        this.#stopTimer();
        this.#recorder?.arm();
        // A capture right after the restore completes (a checkpoint waits for that) would find no
        // walks yet: the restore's own first touches stand for them until walks replace them.
        this.#recorder?.stampNow(touched);
        this.#publish();
      },
      });
    } catch (e) {
      this.#recorder?.arm();
      // A chunk that failed while the state was being applied (the CRNG reseed reads two pages)
      // leaves the stopped machine with the checkpoint's device state and holes in its RAM: it
      // must not run or be captured until another restore, exactly as after a fault later on.
      if (e instanceof LazyFaultError) this.#failed(id, e);
      throw e;
    }
    this.#active = restore;
    this.#stopTimer();
    this.#timer = setInterval(() => this.#publish(), STATUS_INTERVAL_MS);
    this.#publish();
  }

  #fatal(emulator: LazyEmulator, id: string, error: LazyFaultError): void {
    // The exception unwound v86's tick, so its loop is dead with `running` still set: settle
    // the flags and announce the stop as v86 itself would.
    emulator.v86.running = false;
    emulator.v86.stopping = false;
    emulator.emulator_bus.send("emulator-stopped");
    this.#failed(id, error);
  }

  #failed(id: string, error: LazyFaultError): void {
    this.#stopTimer();
    this.#failure = `Lazy restore of checkpoint ${id} failed: ${error.message}`;
    this.emit({ type: "notice", level: "error", message: `${this.#failure}. The machine was stopped so it cannot run on missing memory; restore a checkpoint to continue.` });
    this.#publish();
  }

  #publish(): void {
    this.emit({ type: "lazy", status: this.status() });
  }

  #stopTimer(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
