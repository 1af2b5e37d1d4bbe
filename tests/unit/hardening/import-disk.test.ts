import { describe, expect, it } from "vitest";
import { captureCheckpoint } from "../../../src/checkpoint/capture";
import { diskSectionImporter } from "../../../src/checkpoint/disk-sections";
import { exportCheckpointBlob, importCheckpoint, type ExtraSection } from "../../../src/checkpoint/export-format";
import { LayerStore } from "../../../src/disk/layer-store";
import { captureInput, makeRam, openTestStore } from "../checkpoint/fixtures";
import { freshDb } from "../disk/helpers";

// Issue 16 defect 8: .snap86 import stored disk sections unchecked.
const LAYER = "layer-d";
const meta = (blockSize = 4096) => new TextEncoder().encode(JSON.stringify({ imageId: "sha256:" + "0".repeat(64), blockSize }));

async function fileWith(sections: ExtraSection[]): Promise<Uint8Array> {
  const store = await openTestStore();
  await captureCheckpoint(store, captureInput("d", makeRam(7), { diskLayerId: LAYER }));
  return new Uint8Array(await (await exportCheckpointBlob(store, "d", sections)).arrayBuffer());
}

async function importInto(bytes: Uint8Array) {
  const checkpoints = await openTestStore();
  const layers = new LayerStore(await freshDb());
  const result = importCheckpoint(checkpoints, bytes, diskSectionImporter(layers, LAYER));
  return { result, checkpoints, layers };
}

const block = (blockIndex: number, length = 4096): ExtraSection => ({ kind: "disk-block", layerId: LAYER, blockIndex, bytes: new Uint8Array(length).fill(3) });
const layer = (blockSize = 4096): ExtraSection => ({ kind: "disk-layer", layerId: LAYER, meta: meta(blockSize) });

describe(".snap86 disk sections are validated on import", () => {
  it("imports a well-formed disk", async () => {
    const { result, layers } = await importInto(await fileWith([block(0), block(9), layer()]));
    await expect(result).resolves.toMatchObject({ alreadyPresent: false });
    expect(await layers.getLayer(LAYER)).toBeDefined();
  });

  it.each([
    ["a missing layer record", [block(0)]],
    ["no disk at all for a checkpoint that names one", []],
    ["a 3-byte block", [block(0, 3), layer()]],
    ["a block index of 2^52+1", [block(2 ** 52 + 1), layer()]],
    ["a block beyond any disk", [block(2 ** 40 / 4096), layer()]],
    ["the same block twice", [block(1), block(1), layer()]],
    ["a block size that is not a power of two", [block(0, 3000), layer(3000)]],
    ["a layer record without an image", [{ kind: "disk-layer", layerId: LAYER, meta: new TextEncoder().encode('{"blockSize":4096}') } as ExtraSection]],
  ])("refuses %s with checkpoint-format, listing nothing", async (_what, sections) => {
    const { result, checkpoints, layers } = await importInto(await fileWith(sections as ExtraSection[]));
    await expect(result).rejects.toMatchObject({ code: "checkpoint-format" });
    expect(await checkpoints.listManifests()).toEqual([]);
    expect(await layers.getLayer(LAYER)).toBeUndefined();
  });
});

describe("a user's machine's .snap86 brings every writable drive's layer", () => {
  const SECOND = "layer-e";
  const other = (kind: "block" | "layer"): ExtraSection =>
    kind === "block" ? { kind: "disk-block", layerId: SECOND, blockIndex: 2, bytes: new Uint8Array(4096).fill(5) } : { kind: "disk-layer", layerId: SECOND, meta: meta() };

  async function importBoth(sections: ExtraSection[]) {
    const checkpoints = await openTestStore();
    const layers = new LayerStore(await freshDb());
    const result = importCheckpoint(checkpoints, await fileWith(sections), diskSectionImporter(layers, [LAYER, SECOND]));
    return { result, layers };
  }

  it("imports both layers", async () => {
    const { result, layers } = await importBoth([block(0), layer(), other("block"), other("layer")]);
    await expect(result).resolves.toMatchObject({ alreadyPresent: false });
    expect(await layers.getLayer(LAYER)).toBeDefined();
    expect(await layers.getLayer(SECOND)).toBeDefined();
  });

  it("refuses a file that lacks the second drive's layer", async () => {
    const { result } = await importBoth([block(0), layer()]);
    await expect(result).rejects.toMatchObject({ code: "checkpoint-format" });
  });
});
