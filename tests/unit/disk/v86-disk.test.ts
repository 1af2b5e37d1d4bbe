import { describe, expect, it } from "vitest";
import { HttpBaseImage } from "../../../src/disk/base-image";
import { LayerStore } from "../../../src/disk/layer-store";
import { Overlay } from "../../../src/disk/overlay";
import { V86Disk, type V86DiskErrorOp } from "../../../src/disk/v86-disk";
import { freshDb, hashList, randomBytes, rangeFetch, rng, type FetchLog } from "./helpers";

const BS = 64 * 1024;

async function setup(delayMs = 0) {
  const data = randomBytes(BS * 4, rng(21));
  const db = await freshDb();
  const log: FetchLog = { ranges: [] };
  const base = await HttpBaseImage.open({ url: "http://t/d", size: data.byteLength, sha256: "d".repeat(64), blockHashes: await hashList(data, BS), db, fetchFn: rangeFetch(data, log, delayMs) });
  const store = new LayerStore(db);
  const layer = await store.createLayer({ parent: null, imageId: base.imageId, blockSize: BS });
  const overlay = await Overlay.open(store, layer.id, base, { flushDelayMs: 60_000 });
  return { data, db, log, base, store, layer, overlay };
}

const get = (d: V86Disk, start: number, len: number) => new Promise<Uint8Array>((r) => d.get(start, len, r));

describe("V86Disk", () => {
  it("loads with sector 0 in memory for geometry, then calls onload", async () => {
    const { data, overlay } = await setup();
    const disk = new V86Disk(overlay);
    expect(disk.byteLength).toBe(data.byteLength);
    expect(disk.get_from_cache(0, 512)).toBeUndefined();
    await new Promise<void>((r) => {
      disk.onload = () => r();
      disk.load();
    });
    expect(disk.get_from_cache(0, 512)).toEqual(data.subarray(0, 512));
    const viaCache = await new Promise<Uint8Array>((r) => disk.get_and_cache(0, 512, r));
    expect(viaCache).toEqual(data.subarray(0, 512));
  });

  it("makes a PIO write (no-op callback) visible to the very next get", async () => {
    const { data, overlay } = await setup();
    const disk = new V86Disk(overlay);
    const sector = new Uint8Array(512).fill(0x5a);
    disk.set(BS + 1536, sector, () => {});
    const got = await get(disk, BS + 1024, 2048);
    expect(got.subarray(512, 1024)).toEqual(sector);
    expect(got.subarray(0, 512)).toEqual(data.subarray(BS + 1024, BS + 1536));
  });

  it("holds requests while the layer is switched and replays them, in order, on the new layer", async () => {
    const { data, store, layer, base, overlay } = await setup();
    const disk = new V86Disk(overlay);
    const release = disk.hold();
    const written = Uint8Array.from({ length: 512 }, (_, i) => (i * 7) & 0xff);
    const buffer = written.slice();
    let writeDone = false;
    disk.set(BS, buffer, () => void (writeDone = true));
    buffer.fill(0); // v86 may reuse its buffer once set returns
    const read = get(disk, BS, 512);
    let answered = false;
    void read.then(() => void (answered = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(writeDone || answered).toBe(false); // nothing reached the old layer
    await store.freeze(layer.id);
    const child = await store.createChild(layer.id);
    disk.attach(await Overlay.open(store, child.id, base));
    release();
    expect(await read).toEqual(written);
    expect(writeDone).toBe(true);
    // The frozen layer kept what it had at the switch.
    expect(overlay.readSync(BS, 512) ?? (await overlay.read(BS, 512))).toEqual(data.subarray(BS, BS + 512));
  });

  it("counts reads in flight and resolves whenIdle once they are done", async () => {
    const { overlay } = await setup(30);
    const disk = new V86Disk(overlay);
    let answered = 0;
    disk.get(0, 4096, () => answered++);
    disk.get(2 * BS, 4096, () => answered++);
    expect(disk.inFlightReads).toBe(2);
    await disk.whenIdle();
    expect(answered).toBe(2);
    expect(disk.inFlightReads).toBe(0);
  });

  it("keeps only a small layer reference in the saved state and checks it on restore", async () => {
    const { overlay, store, base, layer } = await setup();
    const errors: V86DiskErrorOp[] = [];
    const disk = new V86Disk(overlay, { onError: (_e, op) => errors.push(op) });
    disk.set(0, new Uint8Array(BS).fill(1), () => {});
    const state = disk.get_state();
    expect(state).toEqual(["snap86-disk", 1, layer.id, 4 * BS]);
    expect(JSON.stringify(state).length).toBeLessThan(100);
    // Checkpoint: freeze, continue on a child; the state still names the frozen parent and is accepted.
    await overlay.close();
    await store.freeze(layer.id);
    const child = await store.createChild(layer.id);
    disk.attach(await Overlay.open(store, child.id, base));
    disk.set_state(state);
    expect(disk.stateMismatch).toBeNull();
    disk.set_state(["snap86-disk", 1, "some-other-layer", 4 * BS]);
    expect(disk.stateMismatch).toBe("some-other-layer");
    expect(errors).toEqual(["state"]);
    expect((await get(disk, 0, 512)).every((b) => b === 1)).toBe(true);
  });

  it("delays the DMA completion callback until the flush when the dirty set is over its limit", async () => {
    const { db, store, base, layer } = await setup();
    const ov = await Overlay.open(store, layer.id, base, { flushDelayMs: 60_000, dirtyLimitBytes: BS });
    const disk = new V86Disk(ov);
    await new Promise<void>((r) => disk.set(0, new Uint8Array(BS), r));
    expect(await db.count("blocks")).toBe(0);
    await new Promise<void>((r) => disk.set(BS, new Uint8Array(2 * BS), r));
    expect(await db.count("blocks")).toBe(3);
  });

  it("refuses writes on a read-only disk without breaking the guest", async () => {
    const { data, overlay } = await setup();
    const errors: unknown[] = [];
    const disk = new V86Disk(overlay, { readOnly: true, onError: (e) => errors.push(e) });
    let called = false;
    disk.set(0, new Uint8Array(512).fill(9), () => (called = true));
    expect(called).toBe(true);
    expect(errors.length).toBe(1);
    expect(await get(disk, 0, 512)).toEqual(data.subarray(0, 512));
  });
});
