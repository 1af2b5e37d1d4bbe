import { describe, expect, it } from "vitest";
import { MemoryBaseImage } from "../../../src/disk/base-image";
import { blockRange } from "../../../src/disk/db";
import { StorageFullError } from "../../../src/disk/errors";
import { LayerStore } from "../../../src/disk/layer-store";
import { Overlay } from "../../../src/disk/overlay";
import { freshDb, randomBytes, rng } from "./helpers";

const BS = 4096;

function firstDiff(a: Uint8Array, b: Uint8Array): number {
  if (a.byteLength !== b.byteLength) return -2;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return i;
  return -1;
}

function expectBytes(got: Uint8Array | undefined, want: Uint8Array, what: string): void {
  if (!got) throw new Error(`${what}: no data`);
  const d = firstDiff(got, want);
  if (d !== -1) throw new Error(`${what}: differs at byte ${d} (got ${got[d]}, want ${want[d]})`);
}

async function setup(size = BS * 24 + 1000, seed = 7) {
  const data = randomBytes(size, rng(seed));
  const base = new MemoryBaseImage(data, { imageId: `mem:${seed}`, blockSize: BS });
  const db = await freshDb();
  const store = new LayerStore(db);
  const layer = await store.createLayer({ parent: null, imageId: base.imageId, blockSize: BS });
  return { data, base, db, store, layer };
}

describe("Overlay", () => {
  it("reads back unaligned and overlapping writes exactly, before and after flush + reopen", async () => {
    // 64 KiB blocks as in production, so a 100 KiB write spans three blocks.
    const big = 64 * 1024;
    const data = randomBytes(big * 6, rng(11));
    const base = new MemoryBaseImage(data, { imageId: "mem:big", blockSize: big });
    const store = new LayerStore(await freshDb());
    const layer = await store.createLayer({ parent: null, imageId: base.imageId, blockSize: big });
    const ov = await Overlay.open(store, layer.id, base, { flushDelayMs: 60_000 });
    const ref = data.slice();
    const r = rng(12);
    const writes: Array<[number, number]> = [
      [1536, 512], // one sector inside block 0
      [big - 3000, 100 * 1024], // 100 KiB spanning blocks 0..2
      [1000, 77], // unaligned, overlapping the first
      [big - 10, 20], // across a block boundary
      [big * 2, big], // a whole block
      [big * 2 + 5, 300], // rewrite inside it
      [big * 5 + 100, big - 100], // up to the end of the disk
    ];
    for (const [off, len] of writes) {
      const bytes = randomBytes(len, r);
      ov.write(off, bytes);
      ref.set(bytes, off);
      // Visible at once, without awaiting anything in between.
      expectBytes(await ov.read(off, len), ref.subarray(off, off + len), `after write at ${off}`);
    }
    expectBytes(await ov.read(0, data.byteLength), ref, "whole disk before flush");
    await ov.close();
    const again = await Overlay.open(store, layer.id, base);
    expectBytes(await again.read(0, data.byteLength), ref, "whole disk after reopen");
    expect(again.stats().blocks).toBe(4); // blocks 0, 1, 2 and 5
  });

  it("makes a whole-block write readable synchronously", async () => {
    const { base, store, layer } = await setup();
    const ov = await Overlay.open(store, layer.id, base);
    const bytes = randomBytes(BS, rng(1));
    expect(ov.readSync(BS * 3, 512)).toBeUndefined();
    ov.write(BS * 3, bytes);
    expectBytes(ov.readSync(BS * 3 + 512, 512), bytes.subarray(512, 1024), "sync read");
    ov.discard();
  });

  it("sees the latest write after flush and reopen (flush ordering)", async () => {
    const { base, store, layer } = await setup();
    let ov = await Overlay.open(store, layer.id, base, { flushDelayMs: 1 });
    for (let round = 0; round < 5; round++) {
      ov.write(1536, new Uint8Array(512).fill(round + 1));
      if (round % 2 === 0) await ov.flush();
    }
    await ov.flush();
    ov.discard();
    ov = await Overlay.open(store, layer.id, base);
    expect((await ov.read(1536, 512)).every((b) => b === 5)).toBe(true);
  });

  it("matches a reference model under a seeded random-write fuzz with flushes, reopens and checkpoints", async () => {
    const size = BS * 24 + 1000;
    const { data, base, store, layer } = await setup(size, 99);
    const ref = data.slice();
    const r = rng(2024);
    const opts = { cacheBytes: 4 * BS, flushDelayMs: 2, dirtyLimitBytes: 8 * BS, flushBatchBlocks: 3 };
    let ov = await Overlay.open(store, layer.id, base, opts);
    const pick = (max: number) => Math.floor(r() * max);
    const span = () => {
      const aligned = r() < 0.5;
      let off = pick(size);
      let len = 1 + pick(Math.min(3 * BS, size - off));
      if (aligned) {
        off -= off % 512;
        len = Math.max(512, len - (len % 512));
        if (off + len > size) off = Math.max(0, size - len - (size % 512));
        len = Math.min(len, size - off);
      }
      return [off, len] as const;
    };
    let reopens = 0;
    let checkpoints = 0;
    for (let op = 0; op < 3000; op++) {
      const x = r();
      if (x < 0.45) {
        const [off, len] = span();
        const bytes = randomBytes(len, r);
        ov.write(off, bytes);
        ref.set(bytes, off);
      } else if (x < 0.8) {
        const n = 1 + pick(3);
        const reads = Array.from({ length: n }, () => {
          const [off, len] = span();
          return { off, len, p: ov.read(off, len) };
        });
        for (const { off, len, p } of reads) expectBytes(await p, ref.subarray(off, off + len), `op ${op} read ${off}+${len}`);
      } else if (x < 0.84) {
        // A read still in flight when a write lands on the same bytes: the write must not be lost.
        const [off, len] = span();
        const inFlight = ov.read(off, len);
        const bytes = randomBytes(len, r);
        ov.write(off, bytes);
        ref.set(bytes, off);
        await inFlight;
        expectBytes(await ov.read(off, len), ref.subarray(off, off + len), `op ${op} read after racing write`);
      } else if (x < 0.88) {
        const [off, len] = span();
        const got = ov.readSync(off, len);
        if (got) expectBytes(got, ref.subarray(off, off + len), `op ${op} sync read`);
      } else if (x < 0.94) {
        await ov.flush();
      } else if (x < 0.985) {
        await ov.close();
        ov = await Overlay.open(store, ov.layer.id, base, opts);
        reopens++;
      } else {
        await ov.close();
        await store.freeze(ov.layer.id);
        const child = await store.createChild(ov.layer.id);
        ov = await Overlay.open(store, child.id, base, opts);
        checkpoints++;
      }
    }
    await ov.close();
    const fresh = await Overlay.open(store, ov.layer.id, base);
    expectBytes(await fresh.read(0, size), ref, "final reopen");
    expect(reopens).toBeGreaterThan(10);
    expect(checkpoints).toBeGreaterThan(2);
  });

  it("writes nothing to IndexedDB in secure mode", async () => {
    const { base, db, store, layer } = await setup();
    await store.freeze(layer.id);
    const ov = await Overlay.secure(base, store, layer.id, { cacheBytes: BS });
    const ref = (await ov.read(0, base.size)).slice();
    const r = rng(5);
    for (let i = 0; i < 200; i++) {
      const off = Math.floor(r() * (base.size - 5000));
      const bytes = randomBytes(1 + Math.floor(r() * 5000), r);
      ov.write(off, bytes);
      ref.set(bytes, off);
    }
    await ov.flush();
    expectBytes(await ov.read(0, base.size), ref, "secure read-back");
    expect(await db.count("blocks")).toBe(0);
    expect((await store.listLayers()).map((l) => l.id)).toEqual([layer.id]);
    expect(ov.stats().secure).toBe(true);
  });

  it("keeps data in memory when IndexedDB is full, reports it once, and persists after space is freed", async () => {
    const { base, db, layer } = await setup();
    class FullStore extends LayerStore {
      full = false;
      override writeBlocks(id: string, blocks: ReadonlyArray<readonly [number, Uint8Array]>, n: number): Promise<void> {
        if (this.full) return Promise.reject(new DOMException("quota", "QuotaExceededError"));
        return super.writeBlocks(id, blocks, n);
      }
    }
    const store = new FullStore(db);
    const events: StorageFullError[] = [];
    const ov = await Overlay.open(store, layer.id, base, { flushDelayMs: 60_000, retryDelayMs: 60_000, dirtyLimitBytes: 2 * BS, onStorageFull: (e) => events.push(e) });
    const a = new Uint8Array(BS).fill(0xaa);
    ov.write(0, a);
    await ov.flush();
    store.full = true;
    const b = new Uint8Array(3 * BS).fill(0xbb);
    ov.write(BS, b);
    await expect(ov.flush()).rejects.toBeInstanceOf(StorageFullError);
    await expect(ov.flush()).rejects.toThrow("storage full: the VM keeps running");
    expect(events.length).toBe(1);
    expect(ov.stats()).toMatchObject({ storageFull: true, dirtyBlocks: 3 });
    expect(ov.overLimit).toBe(false); // the guest must not stall on a full disk
    expectBytes(await ov.read(0, 4 * BS), new Uint8Array([...a, ...b]), "in-memory data");
    // Already flushed data is intact in IndexedDB.
    expect(await db.getAllKeys("blocks", blockRange(layer.id))).toEqual([[layer.id, 0]]);
    store.full = false;
    await ov.flush();
    expect(ov.stats()).toMatchObject({ storageFull: false, dirtyBlocks: 0, blocks: 4 });
    ov.discard();
    const again = await Overlay.open(store, layer.id, base);
    expectBytes(await again.read(0, 4 * BS), new Uint8Array([...a, ...b]), "after retry and reopen");
  });

  it("flushes on its own once the dirty set passes the limit (backpressure signal)", async () => {
    const { base, db, store, layer } = await setup();
    const ov = await Overlay.open(store, layer.id, base, { flushDelayMs: 60_000, dirtyLimitBytes: 2 * BS });
    expect(ov.write(0, new Uint8Array(2 * BS).fill(1))).toBe(false);
    expect(ov.write(2 * BS, new Uint8Array(BS).fill(2))).toBe(true);
    await ov.flush();
    expect(await db.count("blocks")).toBe(3);
    expect(ov.overLimit).toBe(false);
  });
});
