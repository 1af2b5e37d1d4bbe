/**
 * Block commit (LayerStore.commitIntoParent + LayerChain.committed): what continuous session
 * saves use to keep the backing chain one layer deep however many saves a session takes.
 */
import { describe, expect, it } from "vitest";
import { MemoryBaseImage } from "../../../src/disk/base-image";
import { LayerError } from "../../../src/disk/errors";
import { LayerStore } from "../../../src/disk/layer-store";
import { Overlay } from "../../../src/disk/overlay";
import { freshDb } from "./helpers";

const BS = 4096;
const fill = (v: number) => new Uint8Array(BS).fill(v);

/** base (8 blocks of 0xee), P (blocks 1, 2 = 1), C child of P (blocks 2, 3 = 2), live child of C (block 4 = 3). */
async function chain() {
  const db = await freshDb();
  const base = new MemoryBaseImage(new Uint8Array(8 * BS).fill(0xee), { imageId: "img", blockSize: BS });
  const store = new LayerStore(db);
  const p = await store.createLayer({ parent: null, imageId: base.imageId, blockSize: BS, label: "autosave" });
  let ov = await Overlay.open(store, p.id, base);
  ov.write(BS * 1, fill(1));
  ov.write(BS * 2, fill(1));
  await ov.close();
  await store.freeze(p.id);
  const c = await store.createChild(p.id, "autosave");
  ov = await Overlay.open(store, c.id, base);
  ov.write(BS * 2, fill(2));
  ov.write(BS * 3, fill(2));
  await ov.close();
  await store.freeze(c.id);
  const live = await store.createChild(c.id, "session");
  const liveOv = await Overlay.open(store, live.id, base);
  liveOv.write(BS * 4, fill(3));
  await liveOv.flush();
  return { db, base, store, p, c, live, liveOv };
}

const firstBytes = async (ov: Overlay) => [...(await ov.read(0, 8 * BS))].filter((_, i) => i % BS === 0);

describe("commitIntoParent", () => {
  it("keeps the child's id and every read, drops the parent, and reads the same through a fresh open", async () => {
    const { store, p, c, live, liveOv, base } = await chain();
    const before = await firstBytes(liveOv);
    expect(before).toEqual([0xee, 1, 2, 2, 3, 0xee, 0xee, 0xee]);
    const done = await store.commitIntoParent(c.id);
    expect(done).toMatchObject({ parentId: p.id, storage: p.id, oldStorage: c.id, blockCount: 3 });
    expect(liveOv.chain.committed(c.id, done.storage)).toBe(true);
    await store.deleteBlocksOf(done.oldStorage);
    expect(await store.getLayer(p.id)).toBeUndefined();
    expect(await store.getLayer(c.id)).toMatchObject({ parent: null, storage: p.id, blockCount: 3, frozen: true });
    expect(await firstBytes(liveOv)).toEqual(before);
    expect(liveOv.chain.layers.map((l) => l.id)).toEqual([c.id]);
    await liveOv.close();
    const reopened = await Overlay.open(store, live.id, base);
    expect(await firstBytes(reopened)).toEqual(before);
    expect(reopened.chain.layers).toHaveLength(1);
    await reopened.close();
  });

  it("chains: a third layer commits into the already committed one", async () => {
    const { store, c, live, liveOv } = await chain();
    const first = await store.commitIntoParent(c.id);
    liveOv.chain.committed(c.id, first.storage);
    await store.deleteBlocksOf(first.oldStorage);
    // The next save: the live layer is frozen and committed into c (stored under p's key).
    await liveOv.close();
    await store.freeze(live.id);
    const second = await store.commitIntoParent(live.id);
    expect(second).toMatchObject({ parentId: c.id, storage: first.storage, oldStorage: live.id, blockCount: 4 });
    await store.deleteBlocksOf(second.oldStorage);
    expect((await store.listLayers()).map((l) => l.id)).toEqual([live.id]);
    expect(await store.blockIndices(second.storage)).toEqual([1, 2, 3, 4]);
  });

  it("refuses a parent another layer also reads through, and a layer that is not frozen", async () => {
    const { store, p, c, live } = await chain();
    await store.createChild(p.id, "a checkpoint's branch");
    await expect(store.commitIntoParent(c.id)).rejects.toThrow(LayerError);
    await expect(store.commitIntoParent(live.id)).rejects.toThrow(/only frozen/);
    // Nothing changed.
    expect(await store.getLayer(c.id)).toMatchObject({ parent: p.id });
    expect(await store.blockIndices(c.id)).toEqual([2, 3]);
  });

  it("blocks left under the old key by a tab closed before deleting them are swept as orphans", async () => {
    const { store, c } = await chain();
    const done = await store.commitIntoParent(c.id);
    expect(await store.sweepOrphans()).toBe(1);
    expect(await store.blockIndices(done.oldStorage)).toEqual([]);
    expect(await store.blockIndices(done.storage)).toEqual([1, 2, 3]);
  });

  it("deleting a committed layer deletes the blocks under its storage key", async () => {
    const { store, c, live, liveOv } = await chain();
    const done = await store.commitIntoParent(c.id);
    await store.deleteBlocksOf(done.oldStorage);
    await liveOv.close();
    await (await store.deleteLayer(live.id)).blocksDeleted;
    await (await store.deleteLayer(c.id)).blocksDeleted;
    expect(await store.blockIndices(done.storage)).toEqual([]);
  });
});

describe("a child overlay warmed with its frozen parent's blocks", () => {
  it("answers reads of what the parent held in memory at once, and writes stay its own", async () => {
    const { store, live, liveOv, base } = await chain();
    await liveOv.read(0, 8 * BS);
    await liveOv.close();
    await store.freeze(live.id);
    const next = await store.createChild(live.id, "session");
    const cold = await Overlay.open(store, next.id, base);
    expect(cold.readSync(BS * 2, BS)).toBeUndefined();
    await cold.close();
    const warm = await Overlay.open(store, next.id, base, { warm: liveOv.cleanBlocks() });
    expect(warm.readSync(BS * 2, BS)?.[0]).toBe(2);
    expect(warm.readSync(BS * 4, BS)?.[0]).toBe(3);
    warm.write(BS * 2, fill(9));
    expect(warm.readSync(BS * 2, BS)?.[0]).toBe(9);
    await warm.flush();
    expect(await store.blockIndices(next.id)).toEqual([2]);
    expect(await store.blockIndices(live.id)).toEqual([4]);
  });
});
