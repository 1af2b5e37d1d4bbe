/** File jobs: `.snap86` export and import (docs/checkpoint-format.md). */
import { diskSectionImporter, diskSections } from "../checkpoint/disk-sections";
import { exportCheckpointBlob, importCheckpoint, parseContainer } from "../checkpoint/export-format";
import { decodeManifest, manifestDiskLayers } from "../checkpoint/manifest";
import type { ExtraSection } from "../checkpoint/export-format";
import type { FileJobs } from "../protocol/checkpoint-io";
import { checkpointStore, layerStore } from "./stores";
import { checkpointMissing } from "../checkpoint/errors";

export const fileJobs: FileJobs = {
  async exportFile(id, signal) {
    const s = await checkpointStore();
    const manifest = await s.getManifest(id);
    if (!manifest) throw checkpointMissing(id);
    // Every disk layer it names: its one disk, or each writable drive of a user's machine.
    const layers = manifestDiskLayers(manifest);
    const store = await layerStore();
    const extra = layers.length > 0 ? allSections(layers.map((id) => diskSections(store, id))) : undefined;
    return exportCheckpointBlob(s, id, extra, signal);
  },

  async importFile(file, signal) {
    const s = await checkpointStore();
    const bytes = new Uint8Array(await file.arrayBuffer());
    // The manifest names its disk layers; disk sections for any other layer are refused.
    const first = parseContainer(bytes)[0];
    const layers = first ? manifestDiskLayers(decodeManifest(first.payload)) : [];
    const r = await importCheckpoint(s, bytes, diskSectionImporter(await layerStore(), layers), signal);
    return { id: r.manifest.id, alreadyPresent: r.alreadyPresent };
  },
};

async function* allSections(parts: readonly AsyncGenerator<ExtraSection>[]): AsyncGenerator<ExtraSection> {
  for (const part of parts) yield* part;
}
