/**
 * A checkpoint's disk inside a .snap86 file: the checkpoint's frozen layer flattened with its
 * ancestors (newest version of every block the chain stores), then one layer record. The base
 * image is not included: the importing side must have the same guest image (checked through the
 * manifest's guestImageId).
 */
import { storageOf, type LayerStore } from "../disk";
import type { ExtraSection } from "./export-format";
import { CheckpointFormatError } from "./errors";

interface LayerRecordMeta {
  imageId: string;
  blockSize: number;
}

/** The sections of a disk layer (image sections are image-sections.ts'). */
export type DiskSection = Extract<ExtraSection, { layerId: string }>;

export async function* diskSections(store: LayerStore, layerId: string): AsyncGenerator<DiskSection> {
  const chain = await store.ancestry(layerId);
  const seen = new Set<number>();
  for (const layer of chain) {
    for (const index of await store.blockIndices(storageOf(layer))) {
      if (seen.has(index)) continue;
      seen.add(index);
      const bytes = await store.readBlock(storageOf(layer), index);
      if (bytes) yield { kind: "disk-block", layerId, blockIndex: index, bytes };
    }
  }
  const meta: LayerRecordMeta = { imageId: chain[0].imageId, blockSize: chain[0].blockSize };
  // Last, so an importer has every block by the time it learns the layer is complete.
  yield { kind: "disk-layer", layerId, meta: new TextEncoder().encode(JSON.stringify(meta)) };
}

/** A user's URL image's id holds its URL (src/emulator/user-drives.ts): as long as the manifest allows. */
const MAX_IMAGE_ID = 2048;
/** Largest disk a layer may describe: keeps block index × size exact and far inside any image. */
export const MAX_DISK_BYTES = 2 ** 40;
const MIN_BLOCK = 512;
const MAX_BLOCK = 16 * 1024 * 1024; // as a shared checkpoint's disk (src/share/shared-checkpoint.ts)

/** What importCheckpoint hands disk sections to; `finish` runs once every section was given. */
export type SectionSink = ((s: ExtraSection) => Promise<void>) & { finish: () => Promise<void> };

const damaged = (why: string) => new CheckpointFormatError(`the checkpoint file is damaged (${why})`);

/**
 * Collects disk sections during an import and creates each layer when its record arrives. Every
 * section is checked before anything is stored: a layer record exactly once (after its blocks),
 * a block size that is a power of two, every block exactly that long, each index once and inside
 * MAX_DISK_BYTES. A checkpoint naming disk layers (its one disk, or each writable drive of a
 * user's machine) must bring every one of them (finish() refuses otherwise), and nothing else.
 */
export function diskSectionImporter(store: LayerStore, expected: string | null | readonly string[]): SectionSink {
  const wanted = new Set(expected === null ? [] : typeof expected === "string" ? [expected] : expected);
  const layers = new Map<string, { blocks: Array<readonly [number, Uint8Array]>; indices: Set<number>; done: boolean }>();
  const sink = async (s: ExtraSection): Promise<void> => {
    // Image sections go to their own importer (image-sections.ts); here they would not belong.
    if (!("layerId" in s) || !wanted.has(s.layerId)) throw new CheckpointFormatError("the checkpoint file's disk does not belong to its checkpoint");
    let layer = layers.get(s.layerId);
    if (!layer) layers.set(s.layerId, (layer = { blocks: [], indices: new Set(), done: false }));
    const { blocks, indices } = layer;
    if (layer.done) throw damaged("disk section after its layer record");
    if (s.kind === "disk-block") {
      if (!Number.isSafeInteger(s.blockIndex) || s.blockIndex < 0 || indices.has(s.blockIndex)) throw damaged(`bad disk block index ${s.blockIndex}`);
      indices.add(s.blockIndex);
      blocks.push([s.blockIndex, s.bytes]);
      return;
    }
    let meta: LayerRecordMeta;
    try {
      meta = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(s.meta)) as LayerRecordMeta;
    } catch {
      throw damaged("bad disk layer record");
    }
    const { imageId, blockSize } = meta ?? {};
    const powerOfTwo = Number.isSafeInteger(blockSize) && blockSize >= MIN_BLOCK && blockSize <= MAX_BLOCK && (blockSize & (blockSize - 1)) === 0;
    if (typeof imageId !== "string" || imageId.length === 0 || imageId.length > MAX_IMAGE_ID || !powerOfTwo) throw damaged("bad disk layer record");
    for (const [index, bytes] of blocks) {
      if (bytes.byteLength !== blockSize) throw damaged(`disk block ${index} is ${bytes.byteLength} bytes, not ${blockSize}`);
      if ((index + 1) * blockSize > MAX_DISK_BYTES) throw damaged(`disk block ${index} lies outside any disk`);
    }
    layer.done = true;
    await store.importLayer({ id: s.layerId, imageId, blockSize }, blocks);
    blocks.length = 0;
  };
  return Object.assign(sink, {
    async finish(): Promise<void> {
      for (const id of wanted) {
        const layer = layers.get(id);
        if (!layer?.done) throw damaged(layer && layer.blocks.length > 0 ? "disk blocks without their layer record" : "its disk layer is missing");
      }
    },
  });
}
