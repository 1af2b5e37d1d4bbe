/**
 * The instant of a checkpoint: the guest stops only for what must happen at one instant (device
 * state, the disk layer switch, and either fixing the set of RAM chunks to read copy-on-write or,
 * without dirty tracking, copying all of RAM), then runs on while the checkpoint is written.
 */
import * as Comlink from "comlink";
import { DEFAULT_CHUNK_SIZE } from "../checkpoint/chunks";
import { overallCaptureProgress } from "../checkpoint/capture-progress";
import type { CaptureMeta, CaptureProgress, CaptureTimings, CheckpointManifest } from "../protocol/checkpoint-data";
import type { PauseParts } from "../protocol/checkpoints";
import type { CaptureJobs } from "../protocol/checkpoint-io";
import type { EmulatorEvent } from "../protocol";
import type { RemoteFacets } from "../protocol/remote";
import { copyRam, saveDeviceState, type EngineEmulator } from "../v86/state";
import { disksIdleNow, freezeDisks, holdDisks, whenDisksIdle, type MachineDisks } from "./machine-disks";
import { MemoryTracking, type CapturePlan } from "./memory-tracking";
import { streamCapture } from "./ram-stream";
import { SparseRam } from "./sparse-ram";

export interface CaptureMachine extends MachineDisks {
  emulator: EngineEmulator & { stop(): Promise<void>; run(): Promise<void>; is_running(): boolean };
}

export interface StoredCapture {
  manifest: CheckpointManifest;
  timings: Partial<CaptureTimings>;
  /** The golden state's RAM, kept for resets (only when asked for). */
  goldenRam?: SparseRam;
  /** Chunks read after the pause (all of RAM on the whole-copy path). */
  chunksSent: number;
  stagedPeakPages: number;
  /** Most memory the capture held beyond the guest's RAM (the whole copy: all of RAM). */
  peakExtraBytes: number;
}

export interface PausedCapture {
  pauseMs: number;
  /** Where the pause went (the rest is resuming the CPU). */
  parts: PauseParts;
  /** The first writable drive's frozen layer (null: a machine of CD-ROMs only). */
  diskLayerId: string | null;
  /** Every layer this capture froze (each writable drive's). */
  frozenLayers: string[];
  /** The device state, kept only for the golden state (resets restore it from memory). */
  goldenState?: ArrayBuffer;
  stored: Promise<StoredCapture>;
}

export interface CaptureDeps {
  io: RemoteFacets<{ capture: CaptureJobs }>;
  /** Dirty tracking of the running machine; null: RAM is copied whole at the pause. */
  tracking: MemoryTracking | null;
  /** A RAM-sized buffer to reuse for the whole copy, and where it goes back after. */
  spare: { take(): Uint8Array | undefined; give(ram: Uint8Array): void };
  emit(event: EmulatorEvent): void;
}

/**
 * Pauses `machine`, fixes the checkpoint's instant and resumes; the returned promise of the
 * stored checkpoint settles later. `keepGolden`: also keep its RAM in memory for resets.
 */
export async function captureAtPause(deps: CaptureDeps, machine: CaptureMachine, meta: Omit<CaptureMeta, "diskLayerId" | "driveLayers">, keepGolden: boolean): Promise<PausedCapture> {
  const { emulator } = machine;
  const { tracking } = deps;
  // A base from a share link's lazy open may name chunks this store never got: send those too.
  const base = tracking?.base;
  const alsoSend = base && !base.stored ? await missingFromStore(deps, base.chunks) : [];
  const wasRunning = emulator.is_running();
  const stoppedAt = performance.now();
  let deviceState: ArrayBuffer;
  let layers: Pick<CaptureMeta, "diskLayerId" | "driveLayers">;
  let plan: CapturePlan | undefined;
  let ram: Uint8Array | undefined;
  let pauseMs = 0;
  let parts: PauseParts = { stopMs: 0, deviceStateMs: 0, ramMs: 0 };
  let releaseDisk: (() => void) | undefined;
  let stoppedHere = false;
  try {
    try {
      // Between ticks with no disk read in flight, the instant is fixed in this task (see
      // disksIdleNow); otherwise the CPU stops until the reads are answered.
      if (!disksIdleNow(machine)) {
        await emulator.stop();
        stoppedHere = wasRunning;
        await whenDisksIdle(machine);
      }
      const stopped = performance.now();
      deviceState = await saveDeviceState(emulator);
      const saved = performance.now();
      if (tracking) plan = tracking.pause(DEFAULT_CHUNK_SIZE, alsoSend, keepGolden);
      else ram = copyRam(emulator, deps.spare.take());
      parts = { stopMs: stopped - stoppedAt, deviceStateMs: saved - stopped, ramMs: performance.now() - saved };
      // The layer switch (IndexedDB transactions) happens with the CPU running: the guest's disk
      // requests wait for it, queued, instead of the whole guest.
      releaseDisk = holdDisks(machine);
    } finally {
      if (stoppedHere) await emulator.run();
      pauseMs = performance.now() - stoppedAt;
    }
    layers = await freezeDisks(machine, meta.machine.drives !== undefined);
  } catch (e) {
    plan?.snapshot.close();
    if (plan) tracking?.captureFailed(plan, keepGolden);
    throw e;
  } finally {
    releaseDisk?.();
  }
  const fullMeta: CaptureMeta = { ...meta, ...layers };
  const frozenLayers = layers.driveLayers?.map((d) => d.diskLayerId) ?? (layers.diskLayerId ? [layers.diskLayerId] : []);
  const id = meta.id;
  const progress = (p: CaptureProgress): void => deps.emit({ type: "checkpoint", phase: "writing", id, ...overallCaptureProgress(p) });
  // The worker takes the state (transferred): the golden one needs a copy of its own.
  const goldenState = keepGolden ? deviceState.slice(0) : undefined;
  const stored = plan
    ? streamed(deps, tracking!, plan, fullMeta, deviceState, keepGolden, progress)
    : copied(deps, ram!, fullMeta, deviceState, keepGolden, progress);
  // Settled by the caller later; a rejection is not unhandled in the meantime.
  stored.catch(() => undefined);
  return { pauseMs, parts, diskLayerId: layers.diskLayerId, frozenLayers, stored, ...(goldenState ? { goldenState } : {}) };
}

async function streamed(
  deps: CaptureDeps,
  tracking: MemoryTracking,
  plan: CapturePlan,
  meta: CaptureMeta,
  deviceState: ArrayBuffer,
  keepGolden: boolean,
  progress: (p: CaptureProgress) => void,
): Promise<StoredCapture> {
  const ramLength = meta.machine.memoryBytes;
  const goldenRam = keepGolden ? new SparseRam(ramLength, plan.chunkSize) : undefined;
  try {
    const result = await streamCapture(deps.io, meta, deviceState, plan, ramLength, (done, total) => progress({ phase: "compress", done, total }), goldenRam ? (i, bytes) => goldenRam.set(i, bytes) : undefined);
    tracking.captured(plan, meta.id, result.manifest.ram.chunks, keepGolden);
    // The golden state is read whole (a cold boot has no base), so its image is complete.
    return { ...result, ...(goldenRam && plan.base === null ? { goldenRam } : {}) };
  } catch (e) {
    tracking.captureFailed(plan, keepGolden);
    throw e;
  }
}

async function copied(
  deps: CaptureDeps,
  ram: Uint8Array,
  meta: CaptureMeta,
  deviceState: ArrayBuffer,
  keepGolden: boolean,
  progress: (p: CaptureProgress) => void,
): Promise<StoredCapture> {
  const result = await deps.io.capture.capture(meta, Comlink.transfer(ram, [ram.buffer]), Comlink.transfer(deviceState, [deviceState]), Comlink.proxy(progress));
  const goldenRam = keepGolden ? SparseRam.fromFull(result.ram, result.manifest.chunkSize) : undefined;
  deps.spare.give(result.ram);
  const chunksSent = result.manifest.ram.chunks.length;
  return { manifest: result.manifest, timings: result.timings, chunksSent, stagedPeakPages: 0, peakExtraBytes: ram.byteLength, ...(goldenRam ? { goldenRam } : {}) };
}

async function missingFromStore(deps: CaptureDeps, chunks: readonly (string | null)[]): Promise<number[]> {
  const hashes = [...new Set(chunks.filter((h): h is string => h !== null))];
  const present = new Set(await deps.io.capture.present(hashes));
  const out: number[] = [];
  chunks.forEach((h, i) => {
    if (h !== null && !present.has(h)) out.push(i);
  });
  return out;
}
