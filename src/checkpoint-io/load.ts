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
    const early = ahead?.manifest.id === id ? ahead : undefined;
    ahead = undefined;
    const manifest = early?.manifest ?? (await manifestOf(await checkpointStore(), id));
    if (machine) checkRestorable(manifest, machine);
    // A read ahead that failed is done again here: this one's error is the one reported.
    const deviceState = (await early?.deviceState.catch(() => undefined)) ?? (await readDeviceState(await checkpointStore(), manifest));
    return Comlink.transfer({ manifest, deviceState }, [deviceState]);
  },

  async readRamChunks(id, indices) {
    const s = await checkpointStore();
    const manifest = await manifestOf(s, id);
    const bytes = await readRamChunks(s, manifest, indices);
    return Comlink.transfer(bytes, [bytes.buffer]);
  },
};

/** The one device state read ahead of its loadLazy (a reload's session save, see CatalogJobs.newest). */
let ahead: { manifest: CheckpointManifest; deviceState: Promise<ArrayBuffer> } | undefined;

export function readDeviceStateAhead(s: CheckpointStore, manifest: CheckpointManifest): void {
  const deviceState = readDeviceState(s, manifest);
  deviceState.catch(() => undefined); // met again (and reported) by the loadLazy that takes it
  ahead = { manifest, deviceState };
}

async function manifestOf(s: CheckpointStore, id: string): Promise<CheckpointManifest> {
  const manifest = await s.getManifest(id);
  if (!manifest) throw checkpointMissing(id);
  return manifest;
}
