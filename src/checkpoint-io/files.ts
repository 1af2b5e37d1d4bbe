/** File jobs: `.snap86` export and import (docs/checkpoint-format.md). */
import { diskSectionImporter, diskSections } from "../checkpoint/disk-sections";
import { imageSectionImporter, imageSections } from "../checkpoint/image-sections";
import { openImageById } from "../disk/image-by-id";
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
    // A user's machine: its images' blocks (or URL and hashes) travel too, so a profile that never saw them opens it.
    const images = manifest.machine.drives ? [imageSections(manifest, (imageId) => openImageById(imageId, store.db))] : [];
    const parts = [...layers.map((id) => diskSections(store, id)), ...images];
    const extra = parts.length > 0 ? allSections(parts) : undefined;
    return exportCheckpointBlob(s, id, extra, signal, images.length > 0);
  },

  async importFile(file, signal) {
    const s = await checkpointStore();
    const bytes = new Uint8Array(await file.arrayBuffer());
    // The manifest names its disk layers; disk sections for any other layer are refused.
    const first = parseContainer(bytes)[0];
    const manifest = first ? decodeManifest(first.payload) : null;
    const disks = diskSectionImporter(await layerStore(), manifest ? manifestDiskLayers(manifest) : []);
    const images = manifest ? imageSectionImporter(manifest) : null;
    const sink = Object.assign(
      async (section: ExtraSection) => {
        if ("imageId" in section && images) return images(section);
        return disks(section);
      },
      { finish: () => disks.finish() },
    );
    const r = await importCheckpoint(s, bytes, sink, signal);
    return { id: r.manifest.id, alreadyPresent: r.alreadyPresent };
  },
};

async function* allSections(parts: readonly AsyncIterable<ExtraSection>[]): AsyncGenerator<ExtraSection> {
  for (const part of parts) yield* part;
}
