/** File jobs: `.snap86` export and import (docs/checkpoint-format.md). */
import { diskSectionImporter, diskSections } from "../checkpoint/disk-sections";
import { exportCheckpointBlob, importCheckpoint, parseContainer } from "../checkpoint/export-format";
import { decodeManifest } from "../checkpoint/manifest";
import type { FileJobs } from "../protocol/checkpoint-io";
import { checkpointStore, layerStore } from "./stores";
import { checkpointMissing } from "../checkpoint/errors";

export const fileJobs: FileJobs = {
  async exportFile(id, signal) {
    const s = await checkpointStore();
    const manifest = await s.getManifest(id);
    if (!manifest) throw checkpointMissing(id);
    const extra = manifest.diskLayerId ? diskSections(await layerStore(), manifest.diskLayerId) : undefined;
    return exportCheckpointBlob(s, id, extra, signal);
  },

  async importFile(file, signal) {
    const s = await checkpointStore();
    const bytes = new Uint8Array(await file.arrayBuffer());
    // The manifest names its disk layer; disk sections for any other layer are refused.
    const first = parseContainer(bytes)[0];
    const diskLayerId = first ? decodeManifest(first.payload).diskLayerId : null;
    const r = await importCheckpoint(s, bytes, diskSectionImporter(await layerStore(), diskLayerId), signal);
    return { id: r.manifest.id, alreadyPresent: r.alreadyPresent };
  },
};
