/** Capture job: hashes, compresses and stores a checkpoint the emulator worker copied out. */
import * as Comlink from "comlink";
import { captureCheckpoint, type CaptureTimings } from "../checkpoint/capture";
import type { CaptureJobs } from "../protocol/checkpoint-io";
import { checkpointStore } from "./stores";

export const captureJobs: CaptureJobs = {
  async capture(meta, ram, deviceState, onProgress) {
    const timings: Partial<CaptureTimings> = {};
    const manifest = await captureCheckpoint(await checkpointStore(), { ...meta, ram, deviceState }, onProgress, timings);
    return Comlink.transfer({ manifest, timings, ram }, [ram.buffer]);
  },
};
