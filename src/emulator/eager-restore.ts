/**
 * Eager restores: all of RAM read, verified and applied, or by difference: when dirty-page
 * tracking knows where RAM differs from the checkpoint (RAM is the checkpoint last captured or
 * restored, or shares most chunks with it), only the chunks that differ are read from IndexedDB
 * and copied in. Going back to the checkpoint just taken (a test's setup, an undo) then costs the
 * pages written since, not a read, decompression and copy of all of RAM. The same idea as a reset
 * (src/emulator/golden-reset.ts), for any stored checkpoint.
 */
import * as Comlink from "comlink";
import type { CheckpointManifest } from "../checkpoint/manifest";
import { checkRestorable } from "../checkpoint/manifest";
import type { LoadJobs } from "../protocol/checkpoint-io";
import { throwIfAborted } from "../protocol/errors";
import type { PageSet } from "../v86/page-set";
import { PAGE_SIZE } from "../v86/page-walker";
import { restoreDeviceState } from "../v86/state";
import type { Machine } from "./checkpoint-controller";
import { branchDisks, whenDisksIdle } from "./machine-disks";
import type { MemoryTracking } from "./memory-tracking";

/** Above this share of RAM's chunks, the whole-RAM read (batched, into a reused buffer) is the better path. */
export const MAX_DIFFERENCE_SHARE = 1 / 4;

export interface DifferenceRestoreDeps {
  tracking: MemoryTracking;
  load: Pick<LoadJobs, "readRamChunks">;
  /** Manifest and device state of a checkpoint, checked against the machine (cached by the caller). */
  deviceState(id: string): Promise<{ manifest: CheckpointManifest; deviceState: ArrayBuffer }>;
}

/**
 * Restores checkpoint `id` by difference and leaves the emulator stopped with the checkpoint's
 * state applied; null (machine untouched, running or paused as it was) when tracking cannot tell
 * or too much differs. The chunks are read while the guest runs; with it stopped, chunks of pages
 * it wrote meanwhile are read too, so the result is exactly the checkpoint's RAM.
 */
export async function restoreByDifference(machine: Machine, id: string, deps: DifferenceRestoreDeps, signal?: AbortSignal): Promise<CheckpointManifest | null> {
  const { manifest, deviceState } = await deps.deviceState(id);
  checkRestorable(manifest, machine.identity);
  const { chunkSize } = manifest;
  if (manifest.ram.length % chunkSize !== 0 || chunkSize % PAGE_SIZE !== 0) return null;
  const differing = (): number[] | null => {
    const pages = deps.tracking.pagesDifferingFrom(id, manifest.ram.chunks, chunkSize);
    return pages ? chunksOf(pages, chunkSize / PAGE_SIZE) : null;
  };
  const first = differing();
  if (!first || first.length > manifest.ram.chunks.length * MAX_DIFFERENCE_SHARE) return null;
  const read = new Map<number, Uint8Array>();
  const readChunks = async (indices: number[]): Promise<void> => {
    if (indices.length === 0) return;
    const bytes = await deps.load.readRamChunks(id, indices);
    indices.forEach((index, k) => read.set(index, bytes.subarray(k * chunkSize, (k + 1) * chunkSize)));
  };
  await readChunks(first);
  // The last moment to cancel: from here the running machine is replaced.
  throwIfAborted(signal);
  const { emulator } = machine;
  // Left as found when nothing is applied (a paused machine stays paused).
  const wasRunning = emulator.is_running();
  const untouched = async (): Promise<void> => {
    if (wasRunning) await emulator.run();
  };
  await emulator.stop();
  let chunks: number[] | null;
  try {
    chunks = differing();
    if (chunks) await readChunks(chunks.filter((i) => !read.has(i)));
  } catch (e) {
    await untouched();
    throw e;
  }
  if (!chunks) {
    // Tracking lost its base meanwhile (cannot happen with the machine owned by one restore).
    await untouched();
    return null;
  }
  await whenDisksIdle(machine);
  await branchDisks(machine, manifest);
  const copy = chunks;
  // A copy of the device state: the caller caches it for the next restore of this checkpoint.
  restoreDeviceState(
    emulator,
    deviceState.slice(0),
    (ram) => {
      for (const index of copy) ram.set(read.get(index)!, index * chunkSize);
    },
    true,
  );
  return manifest;
}

/**
 * Reads and verifies all of the checkpoint's RAM into `staging` (reused, memoryBytes long) or a
 * new buffer, then applies it; the emulator is left stopped. The buffer goes back through `keep`.
 */
export async function restoreWhole(
  machine: Machine,
  id: string,
  deps: { load: Pick<LoadJobs, "load">; staging: Uint8Array | undefined; keep(ram: Uint8Array): void },
  signal?: AbortSignal,
): Promise<CheckpointManifest> {
  const { staging } = deps;
  // Compatibility is checked in the worker before the RAM buffer and device state are made.
  const loaded = await deps.load.load(id, staging ? Comlink.transfer(staging, [staging.buffer]) : undefined, signal, machine.identity);
  try {
    checkRestorable(loaded.manifest, machine.identity);
    // The last moment to cancel: from here the running machine is replaced.
    throwIfAborted(signal);
    const { emulator } = machine;
    await emulator.stop();
    await whenDisksIdle(machine);
    await branchDisks(machine, loaded.manifest);
    restoreDeviceState(emulator, loaded.deviceState, (ram) => ram.set(loaded.ram), loaded.ram.byteLength === machine.identity.memoryBytes);
    return loaded.manifest;
  } finally {
    deps.keep(loaded.ram);
  }
}

/** Chunk indices holding any of `pages`, ascending (members() lists pages lowest first). */
export function chunksOf(pages: PageSet, pagesPerChunk: number): number[] {
  const chunks: number[] = [];
  for (const page of pages.members()) {
    const chunk = Math.floor(page / pagesPerChunk);
    if (chunks[chunks.length - 1] !== chunk) chunks.push(chunk);
  }
  return chunks;
}
