import { describe, expect, it } from "vitest";
import { captureCheckpoint } from "../../../src/checkpoint/capture";
import { collectGarbage, deleteCheckpoint, GC_LOCK, listCheckpoints, type LockManagerLike } from "../../../src/checkpoint/gc";
import { manifestChunkHashes } from "../../../src/checkpoint/manifest";
import { loadCheckpoint } from "../../../src/checkpoint/restore";
import { CHUNK, captureInput, makeRam, openTestStore } from "./fixtures";

class RecordingLocks implements LockManagerLike {
  held: string[] = [];
  requests: string[] = [];
  async request<T>(name: string, _options: { mode?: "exclusive" | "shared" }, callback: () => Promise<T>): Promise<T> {
    this.requests.push(name);
    this.held.push(name);
    try {
      return await callback();
    } finally {
      this.held.pop();
    }
  }
}

describe("checkpoint management and GC", () => {
  it("lists, labels and deletes; GC keeps referenced chunks and removes the rest", async () => {
    const store = await openTestStore();
    const ramA = makeRam(10);
    const ramB = ramA.slice();
    ramB.fill(7, 5 * CHUNK, 6 * CHUNK); // B differs from A in one chunk
    const a = await captureCheckpoint(store, captureInput("A", ramA));
    const b = await captureCheckpoint(store, captureInput("B", ramB, { created: 1_700_000_000_001, diskLayerId: "layer-A" }));
    expect((await listCheckpoints(store)).map((c) => c.id)).toEqual(["A", "B"]);
    await store.updateManifest("B", (m) => ({ ...m, label: "before rm -rf" }));
    expect((await listCheckpoints(store))[1].label).toBe("before rm -rf");
    // A catalog edit cannot touch what GC counts on, nor name a checkpoint that is not there.
    await expect(store.updateManifest("B", (m) => ({ ...m, ram: a.ram }))).rejects.toMatchObject({ code: "invalid-argument" });
    await expect(store.updateManifest("B", (m) => ({ ...m, diskLayerId: null }))).rejects.toMatchObject({ code: "invalid-argument" });
    await expect(store.updateManifest("gone", (m) => m)).rejects.toMatchObject({ code: "checkpoint-missing" });
    expect((await store.getManifest("B"))?.ram).toEqual(b.ram);

    const locks = new RecordingLocks();
    const nothing = await collectGarbage(store, { locks });
    expect(nothing.deletedChunks).toBe(0);
    expect(locks.requests).toEqual([GC_LOCK]);

    // A's layer is still used by B, so deleting A releases no disk layer.
    expect(await deleteCheckpoint(store, "A")).toEqual({ releasedDiskLayerIds: [] });
    const onlyA = [...manifestChunkHashes(a)].filter((h) => !manifestChunkHashes(b).has(h));
    expect(onlyA.length).toBeGreaterThan(0);
    const r = await collectGarbage(store, { locks, knownDiskLayerIds: ["layer-A", "layer-gone"] });
    expect(r.deletedChunks).toBe(onlyA.length);
    expect(r.freedBytes).toBeGreaterThan(0);
    expect(r.keptChunks).toBe(manifestChunkHashes(b).size);
    expect(r.referencedDiskLayerIds).toEqual(["layer-A"]);
    expect(r.unreferencedDiskLayerIds).toEqual(["layer-gone"]);
    for (const h of onlyA) expect(await store.getChunkRecord(h)).toBeUndefined();
    // B is intact.
    expect(Buffer.compare((await loadCheckpoint(store, "B")).ram, ramB)).toBe(0);

    expect(await deleteCheckpoint(store, "B")).toEqual({ releasedDiskLayerIds: ["layer-A"] });
    const last = await collectGarbage(store, { locks });
    expect(last.keptChunks).toBe(0);
    expect(await store.db.count("chunks")).toBe(0);
  });

  it("never sweeps chunks an in-progress write has decided to reuse", async () => {
    const store = await openTestStore();
    const ram = makeRam(11);
    const old = await captureCheckpoint(store, captureInput("old", ram));
    const reused = [...manifestChunkHashes(old)];

    // A writer registers its hashes (finding them present), then the user deletes "old"
    // and GC runs before the writer commits.
    const present = await store.beginWrite("new", reused);
    expect(present.size).toBe(reused.length);
    await deleteCheckpoint(store, "old");
    const during = await collectGarbage(store);
    expect(during.deletedChunks).toBe(0);
    await store.commitManifest({ ...old, id: "new" }, "new");
    expect(Buffer.compare((await loadCheckpoint(store, "new")).ram, ram)).toBe(0);
    expect(await store.db.count("pending")).toBe(0);
  });

  it("drops pending records of writers that died long ago", async () => {
    const store = await openTestStore();
    const old = await captureCheckpoint(store, captureInput("old", makeRam(12)));
    await store.beginWrite("crashed", manifestChunkHashes(old));
    await deleteCheckpoint(store, "old");
    const soon = await collectGarbage(store);
    expect(soon.deletedChunks).toBe(0);
    const later = await collectGarbage(store, { now: Date.now() + 60 * 60 * 1000 });
    expect(later.stalePendingRemoved).toBe(1);
    expect(later.deletedChunks).toBe(manifestChunkHashes(old).size);
  });
});
