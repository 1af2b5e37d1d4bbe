/** Load jobs: a checkpoint read and verified for an eager restore, or its device state for a lazy one. */
import * as Comlink from "comlink";
import { loadCheckpoint, readDeviceState, readRamChunks } from "../checkpoint/restore";
import type { LoadJobs } from "../protocol/checkpoint-io";
import { checkpointStore } from "./stores";
import { checkpointMissing } from "../checkpoint/errors";
import { checkRestorable, type CheckpointManifest } from "../checkpoint/manifest";
import type { CheckpointStore } from "../checkpoint/checkpoint-store";

export const loadJobs: LoadJobs = {
  async load(id, staging, signal, machine) {
    const r = await loadCheckpoint(await checkpointStore(), id, staging, { signal, ...(machine ? { machine } : {}) });
    return Comlink.transfer(r, [r.ram.buffer, r.deviceState]);
  },

  async loadLazy(id, machine) {
    const s = await checkpointStore();
    const manifest = await manifestOf(s, id);
    if (machine) checkRestorable(manifest, machine);
    const deviceState = await readDeviceState(s, manifest);
    return Comlink.transfer({ manifest, deviceState }, [deviceState]);
  },

  async readRamChunks(id, indices) {
    const s = await checkpointStore();
    const manifest = await manifestOf(s, id);
    const bytes = await readRamChunks(s, manifest, indices);
    return Comlink.transfer(bytes, [bytes.buffer]);
  },
};

async function manifestOf(s: CheckpointStore, id: string): Promise<CheckpointManifest> {
  const manifest = await s.getManifest(id);
  if (!manifest) throw checkpointMissing(id);
  return manifest;
}
