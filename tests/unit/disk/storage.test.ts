import { describe, expect, it } from "vitest";
import { MemoryBaseImage } from "../../../src/disk/base-image";
import { LayerStore } from "../../../src/disk/layer-store";
import { Overlay } from "../../../src/disk/overlay";
import { diskStats } from "../../../src/disk/stats";
import { requestPersistence, storageEstimate } from "../../../src/disk/storage";
import { freshDb } from "./helpers";

describe("storage helpers", () => {
  it("asks for persistence only when not yet persisted, and reports the answer", async () => {
    let asked = 0;
    expect(await requestPersistence({ persisted: async () => false, persist: async () => (asked++, true) })).toEqual({ supported: true, persisted: true });
    expect(await requestPersistence({ persisted: async () => true, persist: async () => (asked++, false) })).toEqual({ supported: true, persisted: true });
    expect(asked).toBe(1);
    expect(await requestPersistence({ persist: async () => false })).toEqual({ supported: true, persisted: false });
    expect(await requestPersistence(undefined)).toEqual({ supported: false, persisted: false });
  });

  it("reports the storage estimate or null when unavailable", async () => {
    expect(await storageEstimate({ estimate: async () => ({ usage: 5, quota: 100 }) })).toEqual({ usage: 5, quota: 100 });
    expect(await storageEstimate(undefined)).toBeNull();
  });

  it("gives the UI overlay and base numbers in one call", async () => {
    const base = new MemoryBaseImage(new Uint8Array(8192), { imageId: "mem:s", blockSize: 4096 });
    const store = new LayerStore(await freshDb());
    const l = await store.createLayer({ parent: null, imageId: base.imageId, blockSize: 4096 });
    const ov = await Overlay.open(store, l.id, base, { flushDelayMs: 60_000 });
    ov.write(10, new Uint8Array([1]));
    await ov.read(4096, 10);
    const s = diskStats(ov);
    expect(s.overlay).toMatchObject({ blocks: 1, dirtyBlocks: 1, bytes: 4096 });
    expect(s.base).toMatchObject({ imageSize: 8192, bytesFromCache: 8192 });
    expect(s.depth).toBe(0);
    await ov.flush();
    expect((await store.getLayer(l.id))?.blockCount).toBe(1);
  });
});
