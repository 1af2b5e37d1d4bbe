/**
 * A checkpoint's disk inside a .snap86 file: the checkpoint's frozen layer flattened with its
 * ancestors (newest version of every block the chain stores), then one layer record. The base
 * image is not included: the importing side must have the same guest image (checked through the
 * manifest's guestImageId).
 */
import type { LayerStore } from "../disk";
import type { ExtraSection } from "./export-format";
import { CheckpointFormatError } from "./errors";

interface LayerRecordMeta {
  imageId: string;
  blockSize: number;
}

export async function* diskSections(store: LayerStore, layerId: string): AsyncGenerator<ExtraSection> {
  const chain = await store.ancestry(layerId);
  const seen = new Set<number>();
  for (const layer of chain) {
    for (const index of await store.blockIndices(layer.id)) {
      if (seen.has(index)) continue;
      seen.add(index);
      const bytes = await store.readBlock(layer.id, index);
      if (bytes) yield { kind: "disk-block", layerId, blockIndex: index, bytes };
    }
  }
  const meta: LayerRecordMeta = { imageId: chain[0].imageId, blockSize: chain[0].blockSize };
  // Last, so an importer has every block by the time it learns the layer is complete.
  yield { kind: "disk-layer", layerId, meta: new TextEncoder().encode(JSON.stringify(meta)) };
}

/** Collects disk sections during an import and creates the layer when its record arrives. */
export function diskSectionImporter(store: LayerStore, expectedLayerId: string | null) {
  const blocks: Array<readonly [number, Uint8Array]> = [];
  return async (s: ExtraSection): Promise<void> => {
    if (s.layerId !== expectedLayerId) throw new CheckpointFormatError("the checkpoint file's disk does not belong to its checkpoint");
    if (s.kind === "disk-block") {
      blocks.push([s.blockIndex, s.bytes]);
      return;
    }
    let meta: LayerRecordMeta;
    try {
      meta = JSON.parse(new TextDecoder().decode(s.meta)) as LayerRecordMeta;
    } catch {
      throw new CheckpointFormatError("the checkpoint file is damaged (bad disk layer record)");
    }
    if (typeof meta.imageId !== "string" || !Number.isInteger(meta.blockSize)) throw new CheckpointFormatError("the checkpoint file is damaged (bad disk layer record)");
    await store.importLayer({ id: s.layerId, imageId: meta.imageId, blockSize: meta.blockSize }, blocks);
    blocks.length = 0;
  };
}
