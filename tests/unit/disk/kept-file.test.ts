import "fake-indexeddb/auto";
import { describe, expect, it } from "vitest";
import { KeptFileImage, StoredImage } from "../../../src/disk/kept-file";
import { listKeptImages, openImageDb } from "../../../src/storage/image-db";

const BLOCK = 1024;

function file(bytes: number): Blob {
  const data = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) data[i] = (i * 7) & 0xff;
  return new Blob([data]);
}

let n = 0;
const freshDb = () => openImageDb(`kept-test-${n++}`);

describe("a file kept in IndexedDB", () => {
  it("serves blocks from the file, keeps them all in the background, then boots from the kept copy alone", async () => {
    const db = await freshDb();
    const source = file(5 * BLOCK + 100);
    const kept = await KeptFileImage.open(source, { imageId: "file:a.img#5220#0", name: "a.img", blockSize: BLOCK, db });
    expect((await kept.readBlock(2))[0]).toBe((2 * BLOCK * 7) & 0xff);
    expect(kept.complete).toBe(false);
    await expect(StoredImage.open("file:a.img#5220#0", db)).rejects.toThrow(/not completely kept/);
    await kept.keepAll();
    expect((await listKeptImages(db)).map((k) => [k.name, k.complete])).toEqual([["a.img", true]]);
    const stored = await StoredImage.open("file:a.img#5220#0", db);
    expect(stored.imageId).toBe(kept.imageId); // overlays made on the file continue on the copy
    for (let i = 0; i < 6; i++) expect(await stored.readBlock(i)).toEqual(await kept.readBlock(i));
    expect((await stored.readBlock(5)).byteLength).toBe(100);
  });

  it("knows what an earlier boot kept, and refuses a changed file under the same identity", async () => {
    const db = await freshDb();
    const first = await KeptFileImage.open(file(3 * BLOCK), { imageId: "file:b", name: "b.img", blockSize: BLOCK, db });
    await first.keepAll();
    const again = await KeptFileImage.open(file(3 * BLOCK), { imageId: "file:b", name: "b.img", blockSize: BLOCK, db });
    expect(again.stats().blocksCached).toBe(3);
    expect(again.complete).toBe(true);
    await expect(KeptFileImage.open(file(4 * BLOCK), { imageId: "file:b", name: "b.img", blockSize: BLOCK, db })).rejects.toThrow(/changed/);
  });

  it("an image that is not kept says to choose its file again", async () => {
    await expect(StoredImage.open("file:nothing", await freshDb())).rejects.toThrow(/choose its file again/);
  });
});
