import { describe, expect, it } from "vitest";
import { HttpBaseImage, MemoryBaseImage } from "../../../src/disk/base-image";
import { blockRange } from "../../../src/disk/db";
import { LayerError, LayerLockedError } from "../../../src/disk/errors";
import { LayerStore } from "../../../src/disk/layer-store";
import { openReadOnlyOverlay, openWritableOverlay } from "../../../src/disk/open-overlay";
import { Overlay } from "../../../src/disk/overlay";
import { acquireLayerLock, type LockManagerLike } from "../../../src/disk/storage";
import { wipe } from "../../../src/disk/wipe";
import { freshDb, hashList, randomBytes, rangeFetch, rng, type FetchLog } from "./helpers";

const BS = 4096;
const fill = (v: number) => new Uint8Array(BS).fill(v);

/** base, L1 (blocks 1,2), L2 (blocks 2,3), L3 (blocks 3,4; block 4 only half written and unflushed). */
async function threeLayers() {
  const data = randomBytes(BS * 8, rng(3));
  const db = await freshDb();
  const log: FetchLog = { ranges: [] };
  const base = await HttpBaseImage.open({ url: "http://test/d.img", size: data.byteLength, sha256: "c".repeat(64), blockSize: BS, blockHashes: await hashList(data, BS), db, fetchFn: rangeFetch(data, log) });
  const store = new LayerStore(db);
  const l1 = await store.createLayer({ parent: null, imageId: base.imageId, blockSize: BS, label: "L1" });
  let ov = await Overlay.open(store, l1.id, base);
  ov.write(BS * 1, fill(1));
  ov.write(BS * 2, fill(1));
  await ov.close();
  await store.freeze(l1.id);
  const l2 = await store.createChild(l1.id, "L2");
  ov = await Overlay.open(store, l2.id, base);
  ov.write(BS * 2, fill(2));
  ov.write(BS * 3, fill(2));
  await ov.close();
  await store.freeze(l2.id);
  const l3 = await store.createChild(l2.id, "L3");
  ov = await Overlay.open(store, l3.id, base);
  ov.write(BS * 3, fill(3));
  await ov.flush();
  ov.write(BS * 4, new Uint8Array(BS / 2).fill(3));
  return { data, db, base, store, log, l1, l2, l3, ov };
}

describe("layer chain", () => {
  it("resolves reads overlay -> parents -> base across 3 layers", async () => {
    const { data, ov, l1, l2, l3 } = await threeLayers();
    expect(ov.chain.layers.map((l) => l.id)).toEqual([l2.id, l1.id]);
    const all = await ov.read(0, 8 * BS);
    const block = (i: number) => all.subarray(i * BS, (i + 1) * BS);
    expect(block(0)).toEqual(data.subarray(0, BS));
    expect(block(1)).toEqual(fill(1));
    expect(block(2)).toEqual(fill(2));
    expect(block(3)).toEqual(fill(3));
    expect(block(4).subarray(0, BS / 2)).toEqual(new Uint8Array(BS / 2).fill(3));
    expect(block(4).subarray(BS / 2)).toEqual(data.subarray(4.5 * BS, 5 * BS));
    expect(ov.layer.id).toBe(l3.id);
  });

  it("enforces frozen layers and frozen parents", async () => {
    const { store, base, l1, l3 } = await threeLayers();
    await expect(Overlay.open(store, l1.id, base)).rejects.toThrow(/frozen/);
    await expect(store.createChild(l3.id)).rejects.toThrow(/not frozen/);
    await expect(store.writeBlocks(l1.id, [[0, fill(9)]], 3)).rejects.toThrow(LayerError);
    const ro = await openReadOnlyOverlay(store, l1.id, base);
    expect(() => ro.write(0, fill(1))).toThrow(/read-only/);
  });

  it("flattens a chain into a standalone layer that reads the same", async () => {
    const { store, base, ov, l3 } = await threeLayers();
    await ov.close();
    await store.freeze(l3.id);
    const flat = await store.flatten(l3.id, "flat");
    expect(flat).toMatchObject({ parent: null, frozen: true, blockCount: 4, label: "flat" });
    const a = await (await openReadOnlyOverlay(store, l3.id, base)).read(0, base.size);
    const b = await (await openReadOnlyOverlay(store, flat.id, base)).read(0, base.size);
    expect(b).toEqual(a);
  });

  it("deletes layers: refuses while children exist, drops metadata at once and blocks in the background", async () => {
    const { store, db, ov, l1, l2, l3 } = await threeLayers();
    await expect(store.deleteLayer(l1.id)).rejects.toThrow(/child layers/);
    await ov.close();
    const { blocksDeleted } = await store.deleteLayer(l3.id);
    expect(await store.getLayer(l3.id)).toBeUndefined();
    await blocksDeleted;
    expect(await db.count("blocks", blockRange(l3.id))).toBe(0);
    expect(await db.count("blocks", blockRange(l2.id))).toBe(2);
    expect((await store.listLayers()).map((l) => l.label).sort()).toEqual(["L1", "L2"]);
  });

  it("sweeps blocks left by an interrupted delete", async () => {
    const { store, db, l3, ov } = await threeLayers();
    await ov.close();
    await db.delete("layers", l3.id); // as if the tab closed before the background delete ran
    expect(await store.sweepOrphans()).toBe(1);
    expect(await db.count("blocks", blockRange(l3.id))).toBe(0);
    expect(await db.count("blocks")).toBe(4);
  });

  it("wipe removes every block of the old overlay and continues on a fresh child", async () => {
    const { store, db, base, data, ov, l2, l3 } = await threeLayers();
    await ov.flush();
    expect(await db.count("blocks", blockRange(l3.id))).toBe(2);
    ov.discard();
    const toBase = await wipe(store, l3.id);
    await toBase.blocksDeleted;
    expect(await db.count("blocks", blockRange(l3.id))).toBe(0);
    expect(await store.getLayer(l3.id)).toBeUndefined();
    expect(toBase.layer).toMatchObject({ parent: null, blockCount: 0, frozen: false });
    const pristine = await Overlay.open(store, toBase.layer.id, base);
    expect(await pristine.read(0, base.size)).toEqual(data);

    const toGolden = await wipe(store, toBase.layer.id, l2.id);
    await toGolden.blocksDeleted;
    const fromGolden = await Overlay.open(store, toGolden.layer.id, base);
    expect((await fromGolden.read(3 * BS, BS)).every((b) => b === 2)).toBe(true);
    await expect(wipe(store, l2.id)).rejects.toThrow(/frozen/);
  });

  it("reads through a MemoryBaseImage as well (a user's own file)", async () => {
    const data = randomBytes(BS * 3, rng(8));
    const base = new MemoryBaseImage(new Blob([data]), { imageId: "local:file", blockSize: BS });
    const store = new LayerStore(await freshDb());
    const l = await store.createLayer({ parent: null, imageId: base.imageId, blockSize: BS });
    const ov = await Overlay.open(store, l.id, base);
    ov.write(100, new Uint8Array([1, 2, 3]));
    const got = await ov.read(0, base.size);
    const want = data.slice();
    want.set([1, 2, 3], 100);
    expect(got).toEqual(want);
  });
});

/** Web Locks semantics for ifAvailable exclusive locks, enough to test the open logic in Node. */
class FakeLocks implements LockManagerLike {
  held = new Set<string>();
  async request(name: string, _o: { ifAvailable: boolean }, cb: (lock: unknown) => unknown): Promise<unknown> {
    if (this.held.has(name)) return cb(null);
    this.held.add(name);
    try {
      return await cb({ name });
    } finally {
      this.held.delete(name);
    }
  }
}

describe("layer locks", () => {
  it("refuses a second writer of the same layer until the first closes", async () => {
    const data = randomBytes(BS * 2, rng(4));
    const base = new MemoryBaseImage(data, { imageId: "mem:lock", blockSize: BS });
    const store = new LayerStore(await freshDb());
    const l = await store.createLayer({ parent: null, imageId: base.imageId, blockSize: BS });
    const locks = new FakeLocks();
    const first = await openWritableOverlay(store, l.id, base, { locks });
    expect(locks.held.has(`snap86-disk-${l.id}`)).toBe(true);
    await expect(openWritableOverlay(store, l.id, base, { locks })).rejects.toBeInstanceOf(LayerLockedError);
    // Read-only access stays possible.
    expect(await (await openReadOnlyOverlay(store, l.id, base)).read(0, 16)).toEqual(data.subarray(0, 16));
    await first.close();
    await Promise.resolve();
    const second = await openWritableOverlay(store, l.id, base, { locks });
    second.discard();
  });

  it("degrades to an unenforced lock without a lock manager", async () => {
    const lock = await acquireLayerLock("x", null);
    expect(lock).toMatchObject({ enforced: false, name: "snap86-disk-x" });
  });
});
