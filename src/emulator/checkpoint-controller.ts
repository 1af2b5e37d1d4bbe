/**
 * Checkpoints of the running machine, from the emulator worker's side. The emulator is stopped only
 * for what must happen at one instant (device state, RAM copy, disk layer switch); hashing,
 * compression and IndexedDB writes run in the capture worker while the guest runs on.
 */
import * as Comlink from "comlink";
import { InFlight } from "../async/in-flight";
import { SessionSaves, withoutCheckpointProgress } from "./session-saves";
import type { CatalogJobs, CheckpointIoApi, OpenedShareLink, PreparedShare, ShareProgress } from "../protocol/checkpoint-io";
import type { RemoteFacets } from "../protocol/remote";
import type { EngineEmulator } from "../v86/state";
import { captureAtPause, type CaptureDeps, type PausedCapture } from "./capture-pause";
import type { MemoryTracking } from "./memory-tracking";
import { SparseRam } from "./sparse-ram";
import { reseedGuestRandom } from "../v86/guest-rng";
import { checkRestorable, manifestDiskLayers, type MachineIdentity } from "../checkpoint/manifest";
import type { CheckpointCatalog, CheckpointInfo, CheckpointOptions, CheckpointResult, EmulatorEvent } from "../protocol";
import type { RestoreMode, RestoreOptions, ShareOptions, ShareResult } from "../protocol";
import type { DiskSession } from "./disk-session";
import { branchDisks, flushDisks, holdLayers, sessionsOf, whenDisksIdle, type MachineDisks } from "./machine-disks";
import type { GoldenImage } from "./golden-reset";
import { localChunks } from "../lazy/local-chunks";
import { WorkingSets } from "./working-sets";
import { restoreByDifference, restoreWhole } from "./eager-restore";
import type { CheckpointManifest } from "../checkpoint/manifest";
import type { LazySupport } from "../v86/lazy-support";
import { LazyRestores, type LazyEmulator } from "../lazy/lazy-sessions";
import type { LazyWasmHandle } from "../v86/instrumented-wasm";
import { asSnap86Error, Snap86Error, throwIfAborted, toWireError } from "../protocol/errors";
import { AUTOSAVE_LABEL, checkpointInfo, GOLDEN_LABEL, machineKey, newCheckpointId, resumeKey } from "./checkpoint-info";

export { AUTOSAVE_LABEL, GOLDEN_LABEL, machineKey, newCheckpointId } from "./checkpoint-info";

export interface Machine extends MachineDisks {
  emulator: EngineEmulator & { stop(): Promise<void>; run(): Promise<void>; is_running(): boolean };
  identity: MachineIdentity;
  /** Whether the emulator runs the instrumented wasm (src/v86/lazy-support.ts). */
  lazy?: LazySupport;
}

export class CheckpointController {
  private readonly io: RemoteFacets<CheckpointIoApi>;
  /** RAM copies come back from the capture worker and are reused: no 128 MiB allocation per checkpoint. */
  private spare: Uint8Array | undefined;
  /** Frozen disk layers of checkpoints still being written: no manifest names them yet. */
  private readonly pendingLayers = new Set<string>();
  /** The golden checkpoint, decompressed, for resets (see src/emulator/golden-checkpoints.ts). */
  private golden: GoldenImage | undefined;
  /** Dirty-page tracking of the running machine (with the instrumented wasm), else null. */
  tracking: MemoryTracking | null = null;
  /** The checkpoint the running machine descends from (tree parent of the next one). */
  current: string | null = null;
  /** Captures started and not yet stored (or failed), with this controller's state updated after each. */
  private readonly writes = new InFlight();
  /** What the guest touched first after each checkpoint: a restore prefetches it first. */
  private readonly workingSets = new WorkingSets();
  /** Autosaves replace each other: the continuous session save (src/emulator/session-saves.ts). */
  private readonly saves = new SessionSaves({
    list: () => this.list(),
    forget: (ids) => this.forget(ids),
    collectGarbage: (disks) => this.collectGarbage(disks),
    publishList: () => this.publishList(),
  });
  /** Autosaves this machine took: its session's, whenever they were taken. */
  readonly ownAutosaves = new Set<string>();
  /** Lazy restores: the loader worker and the session still filling RAM, if any. */
  readonly lazy = new LazyRestores((event) => this.emit(event));

  constructor(private readonly emit: (event: EmulatorEvent) => void) {
    const worker = new Worker(new URL("../workers/checkpoint-io.ts", import.meta.url), { type: "module", name: "checkpoint-io" });
    this.io = Comlink.wrap(worker) as unknown as RemoteFacets<CheckpointIoApi>;
  }

  /** Resolves when every checkpoint started so far is stored (or failed). */
  async idle(): Promise<void> {
    await this.writes.idle();
  }

  async take(machine: Machine, options: CheckpointOptions = {}): Promise<CheckpointResult> {
    const t0 = performance.now();
    const created = Date.now();
    const id = newCheckpointId();
    if (options.autosave) this.ownAutosaves.add(id);
    // One capture at a time: a streamed capture's base is the one before it, once stored.
    await this.idle();
    // A capture needs all of RAM: let an unfinished lazy restore's prefetch complete first.
    await this.lazy.settle();
    // What the guest used in the last seconds: a restore of this checkpoint prefetches it first.
    const hot = this.lazy.hotPages();
    // Write-behind runs while the guest still runs, so the flush inside the pause is small.
    await flushDisks(machine);
    // The layers about to be frozen are named by no manifest until the capture is written: garbage
    // collection anywhere (another worker's, another tab's) must leave them alone until then.
    const pending = await holdLayers(machine);
    const golden = options.label === GOLDEN_LABEL;
    const emit = options.autosave ? withoutCheckpointProgress(this.emit) : this.emit;
    let paused: PausedCapture;
    try {
      paused = await captureAtPause(this.captureDeps(emit), machine, {
        id,
        parent: this.current,
        label: options.label?.trim() || (options.autosave ? AUTOSAVE_LABEL : "Checkpoint"),
        // The instant of the pause, so "taken before a reset" compares with the reset's clock.
        created,
        machine: machine.identity,
        thumbnail: options.thumbnail ?? null,
      }, golden);
    } catch (e) {
      pending.release();
      throw e;
    }
    const { pauseMs, diskLayerId } = paused;
    emit({ type: "checkpoint", phase: "resumed", id, pauseMs });
    for (const layer of paused.frozenLayers) this.pendingLayers.add(layer);
    // Tracked up to this controller's own state (golden image, current): the next capture's parent.
    const stored = this.writes.track(
      paused.stored
        .then((result) => {
          // Complete in IndexedDB from here; refreshing the page's list below is not part of it.
          const persistMs = performance.now() - t0;
          // The golden image stays in memory (its non-zero chunks): resets copy it back without any I/O.
          if (paused.goldenState && result.goldenRam && diskLayerId !== null) {
            this.golden = { id, diskLayerId, driveLayers: result.manifest.driveLayers, deviceState: paused.goldenState, ram: result.goldenRam, chunks: result.manifest.ram.chunks, chunkSize: result.manifest.chunkSize };
          }
          if (!options.autosave) this.current = id;
          return { result, persistMs };
        })
        .finally(() => {
          for (const layer of paused.frozenLayers) this.pendingLayers.delete(layer);
          pending.release();
        }),
    );
    try {
      const { result, persistMs } = await stored;
      // Not awaited: the checkpoint is complete without it (a restore before it lands just has no prefetch order).
      if (hot.length > 0) void this.workingSets.remember(id, hot);
      emit({ type: "checkpoint", phase: "done", id, pauseMs });
      if (options.autosave) await this.saves.replaceWith(sessionsOf(machine), { id, machineKey: machineKey(machine.identity), layers: paused.frozenLayers });
      else await this.publishList();
      return {
        id,
        pauseMs: Math.round(pauseMs * 10) / 10,
        pauseParts: paused.parts,
        persistMs: Math.round(persistMs),
        persistParts: result.timings,
        storedBytes: result.manifest.sizes.storedBytes,
        newBytes: result.manifest.sizes.newBytes,
        chunksWritten: result.chunksSent,
        peakExtraBytes: result.peakExtraBytes,
      };
    } catch (e) {
      const cause = asSnap86Error(e);
      emit({ type: "checkpoint", phase: "failed", id, error: toWireError(cause) });
      // The cause's code (storage full, engine refused...) is what the page explains.
      throw new Snap86Error(cause.code, `The checkpoint could not be saved: ${cause.message}. Earlier checkpoints are unaffected.`, { cause, detail: cause.detail });
    }
  }

  private captureDeps(emit: (event: EmulatorEvent) => void): CaptureDeps {
    return {
      io: this.io,
      tracking: this.tracking,
      spare: {
        take: () => {
          const ram = this.spare;
          this.spare = undefined;
          return ram;
        },
        give: (ram) => {
          this.spare = ram;
        },
      },
      emit,
    };
  }

  /**
   * Restores `id`. Eager: loads and verifies everything first, touching the machine only when all is
   * in hand. Lazy (when the instrumented wasm is loaded): resumes first, pages load on first touch.
   */
  async restore(machine: Machine, id: string, options: RestoreOptions = {}, signal?: AbortSignal): Promise<{ mode: RestoreMode; lazyUnavailable?: string }> {
    const support = machine.lazy ?? { available: false, reason: "the emulator was not started with the instrumented wasm" };
    // Lazy unless eager was asked for (or the instrumented wasm is unavailable).
    if (options.mode !== "eager" && support.available) {
      await this.restoreLazy(machine, id, await support.wasm.handle(), signal);
      return { mode: "lazy" };
    }
    // RAM must be complete before an eager restore, which leaves the machine untouched if the
    // checkpoint turns out damaged: finish a running lazy session (the guest runs meanwhile).
    if (this.lazy.active && !this.lazy.failed) await this.lazy.settle().catch(() => undefined);
    if (this.lazy.active || this.lazy.failed) await this.endLazy(machine.emulator);
    await this.restoreEager(machine, id, signal);
    return support.available ? { mode: "eager" } : { mode: "eager", lazyUnavailable: support.reason };
  }

  /** Device state now, RAM on first touch and by background prefetch (src/lazy). */
  private async restoreLazy(machine: Machine, id: string, wasm: LazyWasmHandle, signal?: AbortSignal): Promise<void> {
    const loaded = await this.loadDeviceState(id, machine.identity);
    // The last moment to cancel: from here the running machine is replaced.
    throwIfAborted(signal);
    await this.runLazily(machine, loaded, wasm);
    this.current = loaded.manifest.label === AUTOSAVE_LABEL ? loaded.manifest.parent : id;
    // Not awaited: the list (all manifests and sizes from IndexedDB) is for the UI, not the restore.
    void this.publishList().catch(() => undefined);
  }

  /** Stops the machine, moves its disk onto the checkpoint's layer, applies the device state with RAM lazy, runs. */
  private async runLazily(
    machine: Machine,
    loaded: { manifest: CheckpointManifest; deviceState: ArrayBuffer },
    wasm: LazyWasmHandle,
    share?: OpenedShareLink,
  ): Promise<void> {
    checkRestorable(loaded.manifest, machine.identity);
    const { emulator } = machine;
    await emulator.stop();
    this.lazy.abortActive();
    await whenDisksIdle(machine);
    await branchDisks(machine, loaded.manifest);
    const golden = localChunks(this.golden ? [{ chunks: this.golden.chunks, chunk: (i) => this.golden?.ram.chunk(i) }] : []);
    await this.lazy.start(emulator as unknown as LazyEmulator, wasm, loaded, golden, {
      ...(share ? { share } : {}),
      // A share link's chunks reach this browser's store only as the loader fetches them.
      onRestored: () => this.tracking?.restored(loaded.manifest.id, loaded.manifest.ram.chunks, loaded.manifest.chunkSize, share === undefined),
      // Restoring a session save is resuming the machine's session (a reload, mostly).
      ...(loaded.manifest.label === AUTOSAVE_LABEL ? { resumeKey: resumeKey(machineKey(machine.identity)) } : {}),
    });
    await emulator.run();
  }

  /** Share upload/download progress from the capture worker, as events for the page. */
  private shareProgress() {
    return Comlink.proxy((p: ShareProgress) => this.emit({ type: "share", ...p }));
  }

  /** Fetches what a shared checkpoint needs before it can run (not its RAM); see src/share/checkpoint-share.ts. */
  prepareShare(link: string, signal?: AbortSignal, store?: string): Promise<PreparedShare> {
    return this.io.share.prepare(link, this.shareProgress(), signal, store);
  }

  /** Runs a prepared share lazily: RAM comes from the checkpoint store on first touch and by prefetch. */
  async restoreShared(machine: Machine, prepared: Extract<PreparedShare, { kind: "lazy" }>, wasm: LazyWasmHandle): Promise<void> {
    let stored: () => void = () => undefined;
    this.sharedStored = new Promise<void>((resolve) => (stored = resolve));
    this.lazy.onShareStored = () => void this.publishList().catch(() => undefined).then(stored);
    await this.runLazily(machine, prepared, wasm, prepared.opened);
    this.current = prepared.manifest.id;
  }

  /**
   * Manifest and device state for a lazy restore; the last one is kept (a few MiB) because going
   * back to the same checkpoint is the common case, and reading it is on the restore's path.
   * v86's restore_state only reads the buffer (set_state copies into device memory), so it is reused.
   */
  private async loadDeviceState(id: string, machine: MachineIdentity): Promise<{ manifest: CheckpointManifest; deviceState: ArrayBuffer }> {
    if (this.lastDeviceState?.manifest.id === id) return this.lastDeviceState;
    // Compatibility first, in the I/O worker: an incompatible checkpoint's state is never read.
    const loaded = await this.io.load.loadLazy(id, machine);
    this.lastDeviceState = loaded;
    return loaded;
  }
  private lastDeviceState: { manifest: CheckpointManifest; deviceState: ArrayBuffer } | undefined;

  /** Settles once the shared checkpoint last opened lazily is complete here and listed (a golden one, the published first-visit state, can then serve resets). */
  sharedStored: Promise<void> | undefined;

  /** Before all of guest RAM is overwritten (reset): drops an unfinished lazy restore (RAM keeps holes), stopping the guest; says whether there was one. */
  async endLazy(emulator: Machine["emulator"]): Promise<boolean> {
    if (!this.lazy.active && !this.lazy.failed) return false;
    await emulator.stop();
    this.lazy.abortActive();
    // Pages it never loaded hold whatever was there before: tracking cannot vouch for RAM now.
    this.tracking?.unknown();
    return true;
  }

  /** Encrypts and uploads what the store lacks; returns the link. */
  async share(id: string, appUrl: string, signal?: AbortSignal, options?: ShareOptions): Promise<ShareResult> {
    return this.io.share.publish(id, appUrl, this.shareProgress(), signal, options);
  }

  /** Downloads, decrypts and verifies a shared checkpoint into the local store; returns its id. */
  async openShare(link: string, signal?: AbortSignal, store?: string): Promise<string> {
    const id = await this.io.share.open(link, this.shareProgress(), signal, store);
    await this.publishList();
    return id;
  }

  private async restoreEager(machine: Machine, id: string, signal?: AbortSignal): Promise<void> {
    const tracking = this.tracking;
    const byDifference = tracking
      ? await restoreByDifference(machine, id, { tracking, load: this.io.load, deviceState: (cid) => this.loadDeviceState(cid, machine.identity) }, signal)
      : null;
    const manifest = byDifference ?? (await this.restoreWholeRam(machine, id, signal));
    const { emulator } = machine;
    tracking?.restored(id, manifest.ram.chunks, manifest.chunkSize, true);
    // Before the guest runs on: no two restores of one checkpoint share random bytes.
    reseedGuestRandom(emulator.v86.cpu);
    this.lazy.ramReplaced();
    await emulator.run();
    this.current = manifest.label === AUTOSAVE_LABEL ? manifest.parent : id;
    await this.publishList();
  }

  /** All of RAM read into the reused staging buffer (taken only on this path, handed back after). */
  private restoreWholeRam(machine: Machine, id: string, signal?: AbortSignal): Promise<CheckpointManifest> {
    const staging = this.spare;
    this.spare = undefined;
    return restoreWhole(machine, id, { load: this.io.load, staging, keep: (ram) => (this.spare = ram) }, signal);
  }

  /** The golden checkpoint in memory: kept from its capture, or loaded (verified) once from IndexedDB. */
  async goldenImage(info: CheckpointInfo): Promise<GoldenImage> {
    if (this.golden?.id === info.id) return this.golden;
    const loaded = await this.io.load.load(info.id);
    const m = loaded.manifest;
    const golden: GoldenImage = { id: info.id, diskLayerId: m.diskLayerId, driveLayers: m.driveLayers, deviceState: loaded.deviceState, ram: SparseRam.fromFull(loaded.ram, m.chunkSize), chunks: m.ram.chunks, chunkSize: m.chunkSize };
    this.golden = golden;
    return golden;
  }

  /** Catalog jobs of this worker's own (not the page's): copies (reset points), the list without sizes, a session save to resume. */
  get catalog(): Pick<CatalogJobs, "copy" | "summaries" | "newest"> {
    return this.io.catalog;
  }

  async list(): Promise<CheckpointInfo[]> {
    return (await this.io.catalog.list()).map((c) => checkpointInfo(c, this.current));
  }

  /**
   * A CheckpointCatalog operation, as the page called it, run by the checkpoint-I/O worker; the
   * cached device state of the edited checkpoint is dropped and the list republished.
   */
  async editCatalog<K extends keyof CheckpointCatalog>(op: K, id: string, rest: unknown[]): Promise<void> {
    if (this.lastDeviceState?.manifest.id === id) this.lastDeviceState = undefined;
    const run = this.io.catalog[op] as unknown as (id: string, ...rest: unknown[]) => Promise<void>;
    await run(id, ...rest);
    await this.publishList();
  }

  /** Deletes, then reclaims chunks and disk layers nothing references any more. */
  async remove(id: string, disks: readonly DiskSession[]): Promise<void> {
    await this.forget([id]);
    await this.collectGarbage(disks);
    // Deleted means deleted: the layer's blocks are gone from IndexedDB before this resolves.
    for (const disk of disks) await disk.whenWiped();
    await this.publishList();
  }

  /**
   * Deletes manifests only (one quick write each): from then on no reload or list sees them. Their
   * chunks and layers go at the next collectGarbage().
   */
  async forget(ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      if (this.lastDeviceState?.manifest.id === id) this.lastDeviceState = undefined;
      await this.io.catalog.remove(id);
      if (this.current === id) this.current = null;
    }
  }

  /** Disk layers the listed checkpoints name or captures in progress will name. */
  referencedLayers(list: readonly Pick<CheckpointInfo, "diskLayerId" | "driveLayers">[]): Set<string> {
    const named = list.flatMap(manifestDiskLayers);
    return new Set([...named, ...this.pendingLayers]);
  }

  async collectGarbage(disks: readonly DiskSession[]): Promise<void> {
    const gc = await this.io.catalog.gc();
    const referenced = new Set([...gc.referencedDiskLayerIds, ...this.pendingLayers]);
    for (const disk of disks) await disk.dropUnreferencedLayers(referenced);
  }

  exportFile(id: string, signal?: AbortSignal): Promise<Blob> {
    return this.io.files.exportFile(id, signal);
  }

  async importFile(file: Blob, signal?: AbortSignal): Promise<CheckpointInfo> {
    const { id } = await this.io.files.importFile(file, signal);
    await this.publishList();
    const info = (await this.list()).find((c) => c.id === id);
    if (!info) throw new Snap86Error("internal", "the imported checkpoint is not listed");
    return info;
  }

  async publishList(): Promise<void> {
    this.emit({ type: "checkpoints", list: await this.list() });
  }
}

