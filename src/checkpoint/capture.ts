/**
 * The whole-RAM capture: RAM copied at the pause, then written through the same CaptureWriter as
 * a streamed capture (src/checkpoint/capture-writer.ts) with no base, so both paths store the same
 * bytes the same way. Used where dirty tracking is unavailable (no instrumented wasm), and by
 * tests that compare the two paths. Runs in the checkpoint-I/O worker; unit tests call it directly.
 */
import { DEFAULT_CHUNK_SIZE } from "./chunks";
import type { CheckpointManifest } from "./manifest";
import type { CheckpointStore } from "./checkpoint-store";
import { CaptureWriter } from "./capture-writer";
import type { CaptureMeta, CaptureProgress, CaptureTimings } from "../protocol/checkpoint-data";

export type { CaptureMeta, CapturePhase, CaptureProgress, CaptureTimings } from "../protocol/checkpoint-data";

export interface CaptureInput extends CaptureMeta {
  /** Guest RAM copied at the same instant as deviceState (engine.copyRam). */
  ram: Uint8Array;
  deviceState: ArrayBuffer | Uint8Array;
}

/** RAM handed to the writer per part: hashed, then compressed and stored, while the next is read. */
const PART_BYTES = 8 * 1024 * 1024;

export async function captureCheckpoint(
  store: CheckpointStore,
  input: CaptureInput,
  onProgress?: (p: CaptureProgress) => void,
  timings?: Partial<CaptureTimings>,
): Promise<CheckpointManifest> {
  const chunkSize = input.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const { ram, ...meta } = input;
  const writer = await CaptureWriter.begin(store, { ...meta, ramLength: ram.byteLength, chunkSize, base: null });
  try {
    const count = Math.ceil(ram.byteLength / chunkSize);
    const perPart = Math.max(1, Math.floor(PART_BYTES / chunkSize));
    for (let first = 0; first < count; first += perPart) {
      const last = Math.min(count, first + perPart);
      const indices = Array.from({ length: last - first }, (_, i) => first + i);
      await writer.addRam(indices, ram.subarray(first * chunkSize, Math.min(last * chunkSize, ram.byteLength)));
      onProgress?.({ phase: "compress", done: Math.min(last * chunkSize, ram.byteLength), total: ram.byteLength });
    }
    onProgress?.({ phase: "manifest", done: 0, total: 1 });
    const manifest = await writer.commit();
    onProgress?.({ phase: "done", done: 1, total: 1 });
    if (timings) Object.assign(timings, writer.timings);
    return manifest;
  } catch (e) {
    await writer.abort();
    throw e;
  }
}
