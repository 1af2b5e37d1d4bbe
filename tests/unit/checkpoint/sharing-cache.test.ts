// A checkpoint list keeps chunk sizes between lists: the same own/shared bytes as computing them
// afresh, while reading only the sizes of chunks it has not seen (or did not find stored).
import { describe, expect, it } from "vitest";
import { captureCheckpoint } from "../../../src/checkpoint/capture";
import { sharingSizes } from "../../../src/checkpoint/dedup-sizes";
import { deleteCheckpoint } from "../../../src/checkpoint/gc";
import { manifestChunkHashes } from "../../../src/checkpoint/manifest";
import { SharingCache, type SizeSource } from "../../../src/checkpoint-io/sharing-cache";
import { CHUNK, captureInput, makeRam, openTestStore } from "./fixtures";

describe("SharingCache", () => {
  it("gives the sizes a fresh computation gives, reading each stored chunk's size once", async () => {
    const store = await openTestStore();
    const asked: string[][] = [];
    const counting: SizeSource = { storedSizes: (hashes) => (asked.push([...hashes]), store.storedSizes(hashes)) };
    const fresh = async () => {
      const manifests = await store.listManifests();
      const all = new Set(manifests.flatMap((m) => [...manifestChunkHashes(m)]));
      return sharingSizes(manifests, await store.storedSizes(all));
    };
    const cache = new SharingCache();
    const ramA = makeRam(10);
    const a = await captureCheckpoint(store, captureInput("A", ramA));
    expect(await cache.sizes(counting, await store.listManifests())).toEqual(await fresh());
    expect(asked.flat().length).toBe(manifestChunkHashes(a).size);

    const ramB = ramA.slice();
    ramB.fill(7, 5 * CHUNK, 6 * CHUNK); // B differs from A in one chunk
    await captureCheckpoint(store, captureInput("B", ramB, { created: 1_700_000_000_001 }));
    asked.length = 0;
    const both = await cache.sizes(counting, await store.listManifests());
    expect(both).toEqual(await fresh());
    expect(asked.flat()).toHaveLength(1); // only B's new chunk
    expect(both.get("B")!.ownBytes).toBeGreaterThan(0);

    // A deleted: what B shared with it is B's own now, with no read at all.
    await deleteCheckpoint(store, "A");
    asked.length = 0;
    const onlyB = await cache.sizes(counting, await store.listManifests());
    expect(onlyB).toEqual(await fresh());
    expect(onlyB.get("B")!.sharedBytes).toBe(0);
    expect(asked.flat()).toEqual([]);
  });

  it("asks again for a chunk it did not find stored", async () => {
    const store = await openTestStore();
    const a = await captureCheckpoint(store, captureInput("A", makeRam(4)));
    const [missing] = [...manifestChunkHashes(a)];
    let calls = 0;
    const partial: SizeSource = {
      storedSizes: async (hashes) => {
        calls++;
        const sizes = await store.storedSizes(hashes);
        if (calls === 1) sizes.delete(missing);
        return sizes;
      },
    };
    const cache = new SharingCache();
    const manifests = await store.listManifests();
    const first = await cache.sizes(partial, manifests);
    const second = await cache.sizes(partial, manifests);
    expect(second.get("A")!.ownBytes).toBeGreaterThan(first.get("A")!.ownBytes);
    expect(calls).toBe(2);
  });
});
