/** A .snap86 file of a user's machine carries its image (container v2): blocks and hashes, or URL and hashes. */
import "fake-indexeddb/auto";
import { describe, expect, it } from "vitest";
import { captureCheckpoint } from "../../../src/checkpoint/capture";
import { initCodec } from "../../../src/checkpoint/codec";
import { exportCheckpointBlob, importCheckpoint, parseContainer } from "../../../src/checkpoint/export-format";
import { imageSectionImporter, imageSections, INLINE_IMAGE_MAX_BYTES } from "../../../src/checkpoint/image-sections";
import { MemoryBaseImage, StoredImage } from "../../../src/disk";
import { openImageDb } from "../../../src/storage/image-db";
import { captureInput, makeRam, MACHINE, openTestStore, zeroImage } from "./fixtures";

const BLOCK = 64 * 1024;
let n = 0;

/** An image of 5½ blocks, two of them equal, and a checkpoint of a floppy machine on it. */
async function machineOn(imageId: string) {
  await initCodec();
  const image = new Uint8Array(5 * BLOCK + 512);
  for (let i = 0; i < image.length; i += 4096) image[i] = (i / 4096) % 7;
  const store = await openTestStore();
  const id = `img-${process.pid}-${++n}`;
  const machine = { ...MACHINE, guestImageId: `own:${"c".repeat(64)}`, drives: [{ kind: "fda" as const, imageId }] };
  await captureCheckpoint(store, captureInput(id, makeRam(5), { machine, diskLayerId: null }));
  const manifest = (await store.getManifest(id))!;
  return { image, store, id, manifest };
}

describe(".snap86 files with a user's image", () => {
  it("carry the image's blocks; the importer keeps them under the checkpoint's image id", async () => {
    const imageId = `file:disk-${++n}.img#${5 * BLOCK + 512}#1`;
    const { image, store, id, manifest } = await machineOn(imageId);
    const source = new MemoryBaseImage(image, { imageId, blockSize: BLOCK });
    const blob = await exportCheckpointBlob(store, id, imageSections(manifest, async () => ({ source, name: "disk.img", url: null })), undefined, true);
    const bytes = new Uint8Array(await blob.arrayBuffer());
    expect(new DataView(bytes.buffer).getUint32(8, true)).toBe(2);
    expect(parseContainer(bytes).filter((r) => r.type === 6)).toHaveLength(6);
    const result = await importCheckpoint(await openTestStore(), bytes, imageSectionImporter(manifest));
    expect(result.manifest.id).toBe(id);
    const kept = await StoredImage.open(imageId);
    expect(kept.meta).toMatchObject({ name: "disk.img", size: image.byteLength, complete: true });
    const back = new Uint8Array(image.byteLength);
    for (let i = 0; i < 6; i++) back.set(await kept.readBlock(i), i * BLOCK);
    expect(Buffer.compare(back, image)).toBe(0);
  });

  it("refuses an image block that does not match its hash, and keeps nothing", async () => {
    const imageId = `file:bad-${++n}.img#${5 * BLOCK + 512}#1`;
    const { image, store, id, manifest } = await machineOn(imageId);
    const source = new MemoryBaseImage(image, { imageId, blockSize: BLOCK });
    async function* lying() {
      for await (const s of imageSections(manifest, async () => ({ source, name: "bad.img", url: null }))) {
        if (s.kind === "image-block" && s.blockIndex === 2) yield { ...s, bytes: s.bytes.map((b, i) => (i === 9 ? b ^ 1 : b)) };
        else yield s;
      }
    }
    const bytes = new Uint8Array(await (await exportCheckpointBlob(store, id, lying(), undefined, true)).arrayBuffer());
    const target = await openTestStore();
    await expect(importCheckpoint(target, bytes, imageSectionImporter(manifest))).rejects.toMatchObject({ code: "checkpoint-format", message: expect.stringContaining("does not match its hash") });
    expect(await (await openImageDb()).get("images", imageId)).toBeUndefined();
    expect(await target.listManifests()).toEqual([]);
  });

  it("a URL image larger than the inline limit travels as its URL and hashes", async () => {
    const url = "http://example.test/big.iso";
    const imageId = `url:${url}#${INLINE_IMAGE_MAX_BYTES + BLOCK}#x#${"0".repeat(64)}`;
    const { store, id, manifest } = await machineOn(imageId);
    const big = zeroImage(imageId, INLINE_IMAGE_MAX_BYTES + BLOCK);
    const bytes = new Uint8Array(await (await exportCheckpointBlob(store, id, imageSections(manifest, async () => ({ source: big, name: "big.iso", url })), undefined, true)).arrayBuffer());
    expect(parseContainer(bytes).filter((r) => r.type === 6)).toHaveLength(0);
    await importCheckpoint(await openTestStore(), bytes, imageSectionImporter(manifest));
    const meta = await (await openImageDb()).get("images", imageId);
    expect(meta).toMatchObject({ url, complete: false });
    expect(meta?.hashes).toHaveLength(INLINE_IMAGE_MAX_BYTES / BLOCK + 1);
  });
});
