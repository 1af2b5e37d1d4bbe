/** Capture jobs: hash, compress and store checkpoints the emulator worker copies or streams out. */
import * as Comlink from "comlink";
import { captureCheckpoint, type CaptureTimings } from "../checkpoint/capture";
import { CaptureWriter } from "../checkpoint/capture-writer";
import type { CaptureJobs } from "../protocol/checkpoint-io";
import { Snap86Error } from "../protocol/errors";
import { checkpointStore } from "./stores";

/** Streamed captures in progress, by checkpoint id. */
const writers = new Map<string, CaptureWriter>();

function writer(id: string): CaptureWriter {
  const w = writers.get(id);
  if (!w) throw new Snap86Error("internal", `no capture ${id} in progress`);
  return w;
}

export const captureJobs: CaptureJobs = {
  async capture(meta, ram, deviceState, onProgress) {
    const timings: Partial<CaptureTimings> = {};
    const manifest = await captureCheckpoint(await checkpointStore(), { ...meta, ram, deviceState }, onProgress, timings);
    return Comlink.transfer({ manifest, timings, ram }, [ram.buffer]);
  },
  async present(hashes) {
    return [...(await (await checkpointStore()).hasChunks(hashes))];
  },
  async begin(meta, deviceState, ramLength, chunkSize, base, baseId) {
    writers.set(meta.id, await CaptureWriter.begin(await checkpointStore(), { ...meta, deviceState, ramLength, chunkSize, base, baseId }));
  },
  async addRam(id, indices, data, zeros) {
    await writer(id).addRam(indices, data, zeros);
  },
  async commit(id) {
    const w = writer(id);
    try {
      const manifest = await w.commit();
      return { manifest, timings: w.timings };
    } finally {
      writers.delete(id);
    }
  },
  async abort(id) {
    const w = writers.get(id);
    writers.delete(id);
    await w?.abort();
  },
};
