/**
 * Share links of a user's machine (envelope version 3): its image travels uploaded (sealed,
 * deduplicated objects) or by its URL (hashes only; the opener reads the URL, block by block
 * checked), the opener keeps it under the id the checkpoint names and gets the machine to boot.
 */
import "fake-indexeddb/auto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { captureCheckpoint } from "../../../src/checkpoint/capture";
import { initCodec } from "../../../src/checkpoint/codec";
import { prepareSharedCheckpoint, publishCheckpoint, type ShareBridgeDeps } from "../../../src/share/checkpoint-share";
import { MAX_UPLOAD_IMAGE_BYTES } from "../../../src/share/image-share";
import { LayerStore } from "../../../src/disk/layer-store";
import { MemoryBaseImage, sha256Hex, StoredImage } from "../../../src/disk";
import { openImageById } from "../../../src/disk/image-by-id";
import { ShareKeyStore } from "../../../src/share/key-store";
import { StoreClient } from "../../../src/share/store-client";
import { openImageDb } from "../../../src/storage/image-db";
import { sharedImageBlocks } from "../../../src/share/image-blocks";
import { captureInput, makeRam, MACHINE, openTestStore, zeroImage } from "../checkpoint/fixtures";
import { startStore, type RunningStore } from "./store-fixture";
// @ts-expect-error a plain module without types
import { startImageServer } from "../../../scripts/lib/image-server.mjs";
// @ts-expect-error a plain module without types
import { freePort } from "../../../scripts/lib/ports.mjs";
import { TEST_IMAGES_DIR, buildTestImages } from "../../../scripts/lib/test-images.mjs";

const APP = "http://app.test/";
const BLOCK = 64 * 1024;
let IMAGES_PORT = 0;
let n = 0;
const unique = (what: string) => `${what}-${process.pid}-${++n}-${Math.random().toString(36).slice(2)}`;

let store: RunningStore;
let images: { close(cb: () => void): void };
let floppy: Uint8Array;
beforeAll(async () => {
  await initCodec();
  store = await startStore();
  buildTestImages({ log: () => undefined });
  floppy = new Uint8Array(await readFile(join(TEST_IMAGES_DIR, "counter-floppy.img")));
  IMAGES_PORT = await freePort();
  images = await startImageServer({ port: IMAGES_PORT });
});
afterAll(async () => {
  await store.stop();
  await new Promise<void>((resolve) => images.close(() => resolve()));
});

async function side(openImage?: ShareBridgeDeps["openImage"], client = new StoreClient({ baseUrl: store.baseUrl })): Promise<ShareBridgeDeps> {
  return {
    checkpoints: await openTestStore(),
    layers: await LayerStore.open(unique("layers")),
    keys: await ShareKeyStore.open(unique("keys")),
    client,
    // Where a kept image's blocks are read later (the browser's default is the app's /store).
    storeBase: store.baseUrl,
    guest: async () => {
      throw new Error("a user's machine needs no built-in guest");
    },
    ...(openImage ? { openImage } : {}),
  };
}

/** A floppy machine's checkpoint on `imageId` (one written block in its layer). */
async function sharerOf(imageId: string, openImage: ShareBridgeDeps["openImage"]): Promise<{ deps: ShareBridgeDeps; id: string }> {
  const deps = await side(openImage);
  const layer = await deps.layers.createLayer({ parent: null, imageId, blockSize: BLOCK });
  await deps.layers.writeBlocks(layer.id, [[2, new Uint8Array(BLOCK).fill(7)]], 1);
  await deps.layers.freeze(layer.id);
  const id = unique("ck").slice(0, 40);
  const drives = [{ kind: "fda" as const, imageId }];
  const machine = { ...MACHINE, guestImageId: `own:${await sha256Hex(new TextEncoder().encode(JSON.stringify(drives)))}`, drives };
  await captureCheckpoint(deps.checkpoints, captureInput(id, makeRam(3), { machine, diskLayerId: layer.id, driveLayers: [{ kind: "fda", diskLayerId: layer.id }] }));
  return { deps, id };
}

/** The image as the opener's machine reads it: kept blocks, the rest from where it came from. */
async function keptBlocks(imageId: string, size: number): Promise<Uint8Array> {
  const image = await StoredImage.open(imageId, undefined, sharedImageBlocks);
  const out = new Uint8Array(size);
  for (let i = 0; i * BLOCK < size; i++) out.set(await image.readBlock(i), i * BLOCK);
  return out;
}

describe("share links of a user's machine", () => {
  it("uploads a picked file's image: the opener reads it from the store on demand (every block checked), keeps it, and gets the machine to boot", async () => {
    const imageId = `file:counter-${unique("f")}.img#${floppy.byteLength}#1`;
    const source = new MemoryBaseImage(floppy, { imageId, blockSize: BLOCK });
    const a = await sharerOf(imageId, async () => ({ source, name: "counter.img", url: null }));
    // The sharer asks for the URL way, but a file has none: it is uploaded anyway.
    const shared = await publishCheckpoint(a.deps, a.id, APP, undefined, undefined, { imageBy: "url" });
    const distinct = new Set<string>();
    for (let i = 0; i * BLOCK < floppy.byteLength; i++) distinct.add(await sha256Hex(floppy.subarray(i * BLOCK, (i + 1) * BLOCK)));
    const b = await side();
    const prepared = await prepareSharedCheckpoint(b, shared.link);
    expect(prepared.machine).toEqual({ drives: [{ kind: "fda", stored: imageId }], memoryMiB: 4, vgaMemoryMiB: 2 });
    // Only the first block was read (and checked) at the open; the rest come when asked.
    const db = await openImageDb();
    expect((await db.getAllKeys("blocks")).filter(([id]) => id === imageId).map(([, i]) => i)).toEqual([0]);
    expect(Buffer.compare(await keptBlocks(imageId, floppy.byteLength), floppy)).toBe(0);
    // Completed in the background, the image needs the store no more.
    const stored = await StoredImage.open(imageId, undefined, sharedImageBlocks);
    await stored.keepAll();
    const meta = await db.get("images", imageId);
    expect(meta?.complete).toBe(true);
    expect(meta?.share).toBeUndefined();
    expect(Buffer.compare(await keptBlocks(imageId, floppy.byteLength), floppy)).toBe(0);
    // The drive's written block came as its layer, on the same image id.
    if (prepared.kind !== "lazy") throw new Error("expected a lazy open");
    const layer = await b.layers.getLayer(prepared.manifest.diskLayerId!);
    expect(layer?.imageId).toBe(imageId);
    // Re-share: the same objects (zero blocks and repeats once each), nothing uploaded.
    expect(distinct.size).toBeLessThan(Math.ceil(floppy.byteLength / BLOCK));
    const again = await publishCheckpoint(a.deps, a.id, APP, undefined, undefined, { imageBy: "url" });
    expect(again).toMatchObject({ link: shared.link, uploadedBytes: 0 });
  });

  it("names a URL image's URL when asked: only its hashes travel, the opener reads it there and checks each block", async () => {
    const url = `http://127.0.0.1:${IMAGES_PORT}/counter-floppy.img`;
    const head = await fetch(url, { headers: { Range: `bytes=0-${BLOCK - 1}` } });
    const imageId = `url:${url}#${floppy.byteLength}#${head.headers.get("last-modified")}#${await sha256Hex(new Uint8Array(await head.arrayBuffer()))}`;
    const a = await sharerOf(imageId, (id) => openImageById(id, null));
    const byUpload = await publishCheckpoint(a.deps, a.id, APP);
    const byUrl = await publishCheckpoint(a.deps, a.id, APP, undefined, undefined, { imageBy: "url" });
    // Same key, same checkpoint objects: the URL way only leaves the image's blocks out.
    expect(byUrl.link).not.toBe(byUpload.link);
    expect(byUrl.uploadedBytes + byUrl.skippedBytes).toBeLessThan(byUpload.uploadedBytes + byUpload.skippedBytes);
    const b = await side();
    const prepared = await prepareSharedCheckpoint(b, byUrl.link);
    expect(prepared.machine?.drives).toEqual([{ kind: "fda", stored: imageId }]);
    const meta = await (await openImageDb()).get("images", imageId);
    expect(meta).toMatchObject({ url, complete: false });
    expect(Buffer.compare(await keptBlocks(imageId, floppy.byteLength), floppy)).toBe(0);
  });

  it("a URL that serves other bytes than the link's hashes fails as damaged at the open", async () => {
    const url = `http://127.0.0.1:${IMAGES_PORT}/counter-floppy.img`;
    const imageId = `url:${url}#${floppy.byteLength}#changed-${unique("u")}#${"1".repeat(64)}`;
    // The sharer hashed other bytes than the server now sends (the file changed since).
    const other = floppy.slice();
    other[100] ^= 0xff;
    const source = new MemoryBaseImage(other, { imageId, blockSize: BLOCK });
    const a = await sharerOf(imageId, async () => ({ source, name: "counter-floppy.img", url }));
    const { link } = await publishCheckpoint(a.deps, a.id, APP, undefined, undefined, { imageBy: "url" });
    const b = await side();
    await expect(prepareSharedCheckpoint(b, link)).rejects.toMatchObject({ code: "damaged" });
    expect(await b.checkpoints.listManifests()).toEqual([]);
  });

  it("a tampered image object fails as damaged before the machine starts; the image is not kept as complete", async () => {
    const imageId = `file:counter-${unique("t")}.img#${floppy.byteLength}#1`;
    const source = new MemoryBaseImage(floppy, { imageId, blockSize: BLOCK });
    const a = await sharerOf(imageId, async () => ({ source, name: "counter.img", url: null }));
    const { link } = await publishCheckpoint(a.deps, a.id, APP);
    // A hostile store serves every object with one bit flipped: the image's blocks come first.
    class Flipping extends StoreClient {
      override async getObject(...args: Parameters<StoreClient["getObject"]>) {
        const bytes = await super.getObject(...args);
        bytes[bytes.byteLength >> 1] ^= 1;
        return bytes;
      }
    }
    const b = await side(undefined, new Flipping({ baseUrl: store.baseUrl }));
    await expect(prepareSharedCheckpoint(b, link)).rejects.toMatchObject({ code: expect.stringMatching(/^(damaged|integrity)$/) });
    expect((await (await openImageDb()).get("images", imageId))?.complete).toBe(false);
    expect(await b.checkpoints.listManifests()).toEqual([]);
  });

  it("refuses to upload more than the limit and says to share by URL", async () => {
    const imageId = `url:http://example.test/big.iso#${MAX_UPLOAD_IMAGE_BYTES + BLOCK}##${"0".repeat(64)}`;
    const big = zeroImage(imageId, MAX_UPLOAD_IMAGE_BYTES + BLOCK);
    const a = await sharerOf(imageId, async () => ({ source: big, name: "big.iso", url: "http://example.test/big.iso" }));
    await expect(publishCheckpoint(a.deps, a.id, APP)).rejects.toMatchObject({ code: "image-too-large", message: expect.stringContaining("by its URL") });
  });
});
