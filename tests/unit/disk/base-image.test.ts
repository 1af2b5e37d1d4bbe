import { describe, expect, it } from "vitest";
import { HttpBaseImage, MemoryBaseImage } from "../../../src/disk/base-image";
import { BaseImageError } from "../../../src/disk/errors";
import { pruneHostCache } from "../../../src/disk/host-cache";
import { freshDb, hashList, randomBytes, rangeFetch, rng, startServer, type FetchLog } from "./helpers";

const BS = 4096;
const SHA = "a".repeat(64);

async function image(data: Uint8Array, o: { log?: FetchLog; delayMs?: number; maxRun?: number; corrupt?: number } = {}) {
  const db = await freshDb();
  const hashes = await hashList(data, BS);
  if (o.corrupt !== undefined) hashes.sha256[o.corrupt] = "0".repeat(64);
  const log = o.log ?? { ranges: [] };
  const img = await HttpBaseImage.open({
    url: "http://test/disk.img",
    size: data.byteLength,
    sha256: SHA,
    blockSize: BS,
    blockHashes: hashes,
    db,
    fetchFn: rangeFetch(data, log, o.delayMs ?? 0),
    maxBlocksPerRequest: o.maxRun ?? 1,
  });
  return { img, db, log, hashes };
}

describe("HttpBaseImage", () => {
  const data = randomBytes(BS * 10 + 700, rng(1)); // short last block on purpose

  it("reads every block exactly, including the short last one", async () => {
    const { img } = await image(data);
    for (let i = 0; i < 11; i++) {
      expect(await img.readBlock(i)).toEqual(data.subarray(i * BS, Math.min(data.byteLength, (i + 1) * BS)));
    }
    await expect(img.readBlock(11)).rejects.toThrow(RangeError);
  });

  it("serves a second read from the host cache, also after reopening", async () => {
    const { img, db, log, hashes } = await image(data);
    await img.readBlock(3);
    await img.readBlock(3);
    expect(log.ranges).toEqual([`bytes=${3 * BS}-${4 * BS - 1}`]);
    expect(img.stats().bytesFetched).toBe(BS);

    const log2: FetchLog = { ranges: [] };
    const again = await HttpBaseImage.open({ url: "http://test/disk.img", size: data.byteLength, sha256: SHA, blockSize: BS, blockHashes: hashes, db, fetchFn: rangeFetch(data, log2) });
    expect(await again.readBlock(3)).toEqual(data.subarray(3 * BS, 4 * BS));
    expect(log2.ranges).toEqual([]);
    expect(again.stats()).toMatchObject({ bytesFetched: 0, bytesFromCache: BS, blocksCached: 1 });
  });

  it("never reads another image's cached blocks (identity includes the sha256)", async () => {
    const { img, db } = await image(data);
    await img.readBlock(0);
    const other = randomBytes(data.byteLength, rng(2));
    const log: FetchLog = { ranges: [] };
    const img2 = await HttpBaseImage.open({ url: "http://test/disk.img", size: other.byteLength, sha256: "b".repeat(64), blockSize: BS, db, fetchFn: rangeFetch(other, log) });
    expect(await img2.readBlock(0)).toEqual(other.subarray(0, BS));
    expect(log.ranges.length).toBe(1);
  });

  it("prunes the host cache of images no longer used", async () => {
    const { img, db } = await image(data);
    await img.readBlock(0);
    await db.put("baseCache", new ArrayBuffer(8), ["http://old/disk.img#" + "f".repeat(64), 0]);
    await db.put("baseCache", new ArrayBuffer(8), ["http://old/disk.img#" + "f".repeat(64), 1]);
    expect(await pruneHostCache(db, [img.cacheId])).toEqual(["http://old/disk.img#" + "f".repeat(64)]);
    expect(await db.getAllKeys("baseCache")).toEqual([[img.cacheId, 0]]);
  });

  it("fetches a block once for concurrent reads", async () => {
    const { img, log } = await image(data, { delayMs: 20 });
    const reads = await Promise.all([img.readBlock(5), img.readBlock(5), img.readBlock(5)]);
    expect(log.ranges.length).toBe(1);
    for (const r of reads) expect(r).toEqual(data.subarray(5 * BS, 6 * BS));
  });

  it("coalesces contiguous missing blocks into one Range request, stopping at cached ones", async () => {
    const { img, log } = await image(data, { maxRun: 4 });
    await img.readBlock(2); // fetches 2..5
    expect(log.ranges).toEqual([`bytes=${2 * BS}-${6 * BS - 1}`]);
    await Promise.all([img.readBlock(3), img.readBlock(4), img.readBlock(5)]);
    expect(log.ranges.length).toBe(1);
    await img.readBlock(0); // 0..1, stops before the cached block 2
    expect(log.ranges[1]).toBe(`bytes=0-${2 * BS - 1}`);
    // Read-ahead blocks are answered from memory the first time, not from IndexedDB.
    expect(img.stats().bytesFromCache).toBe(0);
    await img.readBlock(8); // 8..10, stops at the end of the image
    expect(log.ranges[2]).toBe(`bytes=${8 * BS}-${data.byteLength - 1}`);
    expect(await img.readBlock(10)).toEqual(data.subarray(10 * BS));
  });

  it("rejects a block whose hash does not match, naming block and URL, and never caches it", async () => {
    const { img, db } = await image(data, { corrupt: 6 });
    const err = await img.readBlock(6).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BaseImageError);
    expect((err as BaseImageError).kind).toBe("hash-mismatch");
    expect((err as Error).message).toContain("block 6");
    expect((err as Error).message).toContain("http://test/disk.img");
    expect(await db.get("baseCache", [img.cacheId, 6])).toBeUndefined();
    expect(await img.readBlock(7)).toEqual(data.subarray(7 * BS, 8 * BS));
  });

  it("reports a server without Range support, a 404 and a network failure clearly (real HTTP)", async () => {
    const noRange = await startServer(data, "no-range");
    const missing = await startServer(data, "404");
    try {
      const a = await HttpBaseImage.open({ url: noRange.url, size: data.byteLength, sha256: SHA, blockSize: BS });
      await expect(a.readBlock(0)).rejects.toThrow("server does not support HTTP Range requests");
      const b = await HttpBaseImage.open({ url: missing.url, size: data.byteLength, sha256: SHA, blockSize: BS });
      await expect(b.readBlock(0)).rejects.toThrow(`image not found (404): ${missing.url}`);
    } finally {
      await noRange.close();
      await missing.close();
    }
    // The server is gone now: connection refused.
    const c = await HttpBaseImage.open({ url: missing.url, size: data.byteLength, sha256: SHA, blockSize: BS });
    const err = await c.readBlock(0).catch((e: unknown) => e);
    expect((err as BaseImageError).kind).toBe("network");
    expect((err as Error).message).toContain(`network error while fetching ${missing.url}`);
  });

  it("reads from a real Range server", async () => {
    const srv = await startServer(data);
    try {
      const img = await HttpBaseImage.open({ url: srv.url, size: data.byteLength, sha256: SHA, blockSize: BS, blockHashes: await hashList(data, BS), maxBlocksPerRequest: 16 });
      const all = await Promise.all(Array.from({ length: 11 }, (_, i) => img.readBlock(i)));
      expect(new Uint8Array(await new Blob(all as BlobPart[]).arrayBuffer())).toEqual(data);
      expect(srv.requests).toBe(1);
    } finally {
      await srv.close();
    }
  });
});

describe("MemoryBaseImage", () => {
  it("serves a Blob and an ArrayBuffer behind the same interface", async () => {
    const data = randomBytes(BS * 3 + 10, rng(3));
    for (const src of [new Blob([data]), data.slice().buffer]) {
      const img = new MemoryBaseImage(src, { imageId: "local:test", blockSize: BS });
      expect(img.size).toBe(data.byteLength);
      expect(await img.readBlock(1)).toEqual(data.subarray(BS, 2 * BS));
      expect(await img.readBlock(3)).toEqual(data.subarray(3 * BS));
    }
  });
});
