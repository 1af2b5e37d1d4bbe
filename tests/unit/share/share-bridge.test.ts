import "fake-indexeddb/auto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { captureCheckpoint } from "../../../src/checkpoint/capture";
import { initCodec } from "../../../src/checkpoint/codec";
import { loadCheckpoint } from "../../../src/checkpoint/restore";
import {
  isSharedCheckpoint,
  openSharedCheckpoint,
  prepareSharedCheckpoint,
  publishCheckpoint,
  type GuestIdentity,
  type ShareBridgeDeps,
  type ShareProgress,
} from "../../../src/share/checkpoint-share";
import { encodePackPart } from "../../../src/share/page-pack";
import { SharedRamSource } from "../../../src/share/remote-ram-source";
import { deriveShareKeys, sealObject } from "../../../src/share/crypto";
import { buildShareLink, parseShareLink } from "../../../src/share/link";
import { decodeShareManifest, encodeShareManifest } from "../../../src/share/manifest-codec";
import { LayerStore } from "../../../src/disk/layer-store";
import { ShareKeyStore } from "../../../src/share/key-store";
import { openShare } from "../../../src/share/share-session";
import { StoreClient } from "../../../src/share/store-client";
import { captureInput, makeDeviceState, makeRam, MACHINE, openTestStore } from "../checkpoint/fixtures";
import { startStore, type RunningStore } from "./store-fixture";
import type { OpenedShareLink } from "../../../src/protocol/checkpoint-io";

const BLOCK = 4096;
const PAGE = 4096;
const GUEST: GuestIdentity = { guestImageId: MACHINE.guestImageId, base: { url: "/guest/disk.img", sha256: "ab".repeat(32), size: 1 << 24 } };
const APP = "http://app.test/";

let n = 0;
const unique = (what: string) => `${what}-${process.pid}-${++n}-${Math.random().toString(36).slice(2)}`;

let store: RunningStore;
beforeAll(async () => {
  await initCodec();
  store = await startStore();
});
afterAll(async () => {
  await store.stop();
});

async function side(guest: GuestIdentity = GUEST, client = new StoreClient({ baseUrl: store.baseUrl })): Promise<ShareBridgeDeps> {
  return {
    checkpoints: await openTestStore(),
    layers: await LayerStore.open(unique("layers")),
    keys: await ShareKeyStore.open(unique("keys")),
    client,
    guest: async () => guest,
  };
}

const block = (fill: number, salt = 0) => {
  const b = new Uint8Array(BLOCK).fill(fill);
  b[0] = salt;
  return b;
};

/** A checkpoint on a two-layer disk chain: block 3 is overwritten by the child, block 9 zeroed. */
async function sharer(): Promise<{ deps: ShareBridgeDeps; id: string; ram: Uint8Array; disk: Map<number, Uint8Array> }> {
  const deps = await side();
  const imageId = `sha256:${GUEST.base.sha256}`;
  const parent = await deps.layers.createLayer({ parent: null, imageId, blockSize: BLOCK });
  await deps.layers.writeBlocks(parent.id, [[1, block(1)], [3, block(3)], [9, block(9)]], 3);
  await deps.layers.freeze(parent.id);
  const child = await deps.layers.createChild(parent.id);
  await deps.layers.writeBlocks(child.id, [[3, block(33, 7)], [9, new Uint8Array(BLOCK)], [12, new Uint8Array(BLOCK)]], 3);
  await deps.layers.freeze(child.id);
  const id = unique("ck").slice(0, 40);
  const ram = makeRam(7);
  await captureCheckpoint(deps.checkpoints, captureInput(id, ram, { diskLayerId: child.id, deviceState: makeDeviceState(8) }));
  const disk = new Map([[1, block(1)], [3, block(33, 7)], [9, new Uint8Array(BLOCK)], [12, new Uint8Array(BLOCK)]]);
  return { deps, id, ram, disk };
}

/** What the RAM loader gets of a lazy open: the link as prepareSharedCheckpoint opened it. */
async function preparedLazily(deps: ShareBridgeDeps, link: string): Promise<OpenedShareLink> {
  const prepared = await prepareSharedCheckpoint(deps, link);
  if (prepared.kind !== "lazy") throw new Error("expected a lazy open");
  return prepared.opened;
}

async function listedIds(deps: ShareBridgeDeps): Promise<string[]> {
  return (await deps.checkpoints.listManifests()).map((m) => m.id);
}

describe("share bridge: publish and open a checkpoint through the store", () => {
  it("opens lazily: device state and disk first, the pack's pages, RAM chunk by chunk, listed only once all of it is stored", async () => {
    const a = await sharer();
    const manifest = (await a.deps.checkpoints.getManifest(a.id))!;
    const nonZero = manifest.ram.chunks.flatMap((h, i) => (h ? [i] : []));
    const ppc = manifest.chunkSize / PAGE;
    const zeroChunk = manifest.ram.chunks.findIndex((h) => !h);
    // Need order; a page of a zero chunk has nothing to carry.
    const workingSet = [nonZero[3] * ppc + 1, zeroChunk * ppc, nonZero[0] * ppc + 5, nonZero[3] * ppc + 2];
    const { link, packBytes } = await publishCheckpoint({ ...a.deps, workingSet: async () => workingSet }, a.id, APP);
    expect(packBytes).toBeGreaterThan(0);
    expect(packBytes).toBeLessThan(3 * PAGE); // pages, not their chunks

    const b = await side();
    const prepared = await prepareSharedCheckpoint(b, link);
    if (prepared.kind !== "lazy") throw new Error("expected a lazy open");
    expect(Buffer.compare(new Uint8Array(prepared.deviceState), new Uint8Array(makeDeviceState(8)))).toBe(0);
    expect(await listedIds(b)).toEqual([]); // RAM is not here yet
    const layerId = prepared.manifest.diskLayerId!;
    for (const [index, bytes] of a.disk) expect(Buffer.compare((await b.layers.readBlock(layerId, index))!, bytes)).toBe(0);

    const source = await SharedRamSource.resume(b, prepared.opened);
    expect(source.demandBypassesPrefetch).toBe(true);
    const arrived: number[] = [];
    source.onPackPages((pages, data) =>
      pages.forEach((page, k) => {
        arrived.push(page);
        expect(Buffer.compare(data.subarray(k * PAGE, (k + 1) * PAGE), a.ram.subarray(page * PAGE, (page + 1) * PAGE))).toBe(0);
      }),
    );
    await expect.poll(() => arrived).toEqual([nonZero[3] * ppc + 1, nonZero[0] * ppc + 5, nonZero[3] * ppc + 2]);
    // A fault on a pack page is answered with the chunk's pack pages; on another page, not at all.
    const partial = source.partial(nonZero[3], nonZero[3] * ppc + 2)!;
    expect(partial.pages).toBe(0b110);
    expect(Buffer.compare(partial.bytes.subarray(PAGE, 3 * PAGE), a.ram.subarray((nonZero[3] * ppc + 1) * PAGE, (nonZero[3] * ppc + 3) * PAGE))).toBe(0);
    expect(source.partial(nonZero[3], nonZero[3] * ppc + 4)).toBeUndefined();
    const first = await source.read(nonZero[3]); // a fault
    expect(Buffer.compare(first, a.ram.subarray(nonZero[3] * manifest.chunkSize, (nonZero[3] + 1) * manifest.chunkSize))).toBe(0);
    expect(await source.commitIfComplete()).toBe(false);
    const rest = await source.readMany(nonZero); // prefetch
    nonZero.forEach((i, k) => expect(Buffer.compare(rest[k], a.ram.subarray(i * manifest.chunkSize, (i + 1) * manifest.chunkSize))).toBe(0));
    expect(await source.commitIfComplete()).toBe(true);
    expect(await listedIds(b)).toEqual([a.id]);
    const loaded = await loadCheckpoint(b.checkpoints, a.id);
    expect(Buffer.compare(loaded.ram, a.ram)).toBe(0);
    // Opened again: the checkpoint is local now, nothing to fetch.
    expect(await prepareSharedCheckpoint(b, link)).toEqual({ kind: "local", id: a.id });
  });

  it("a pack whose pages are not its chunks' (a forged link) stops the open before anything is listed", async () => {
    const a = await sharer();
    const manifest = (await a.deps.checkpoints.getManifest(a.id))!;
    const nonZero = manifest.ram.chunks.flatMap((h, i) => (h ? [i] : []));
    const ppc = manifest.chunkSize / PAGE;
    const honest = await publishCheckpoint({ ...a.deps, workingSet: async () => [nonZero[1] * ppc] }, a.id, APP);
    // Whoever holds the key can seal anything: a pack whose page says something else.
    const parsed = parseShareLink(honest.link);
    if (!parsed.ok) throw parsed.error;
    const keys = await deriveShareKeys(parsed.link.key);
    const client = new StoreClient({ baseUrl: store.baseUrl });
    const envelope = await decodeShareManifest(keys, await client.getManifest(parsed.link.manifest), parsed.link.manifest, isSharedCheckpoint);
    const lie = a.ram.slice(nonZero[1] * ppc * PAGE, (nonZero[1] * ppc + 1) * PAGE);
    lie[100] ^= 0x5a;
    const part = await sealObject(keys, encodePackPart({ checkpointId: a.id, pages: [nonZero[1] * ppc], data: lie }), "pack");
    await client.uploadObjects([{ name: part.name, bytes: part.bytes }]);
    const forged = await encodeShareManifest(keys, { ...envelope, pack: { name: part.name, parts: [part.bytes.byteLength] } });
    await client.putManifest(forged.name, forged.bytes);
    const link = buildShareLink(APP, { manifest: forged.name, key: parsed.link.key });

    const b = await side();
    const source = await SharedRamSource.resume(b, await preparedLazily(b, link));
    const arrived: number[] = [];
    source.onPackPages((pages) => arrived.push(...pages));
    await expect.poll(() => arrived).toEqual([nonZero[1] * ppc]); // installed ahead, as any pack page
    await expect(source.readMany(nonZero)).rejects.toMatchObject({ code: "damaged" });
    await expect(source.commitIfComplete()).rejects.toMatchObject({ code: "damaged" });
    expect(await listedIds(b)).toEqual([]);
  });

  it("round-trips RAM, device state and the flattened disk into fresh stores; re-share uploads nothing", async () => {
    const a = await sharer();
    const uploads: ShareProgress[] = [];
    const first = await publishCheckpoint(a.deps, a.id, APP, (p) => uploads.push(p));
    expect(first.link.startsWith(`${APP}#share=`)).toBe(true);
    expect(first.uploadedBytes).toBeGreaterThan(0);
    expect(first.skippedBytes).toBe(0);
    expect(uploads.at(-1)).toMatchObject({ phase: "upload", done: first.uploadedBytes });

    const b = await side();
    const downloads: ShareProgress[] = [];
    const id = await openSharedCheckpoint(b, first.link, (p) => downloads.push(p));
    expect(id).toBe(a.id);
    expect(await listedIds(b)).toEqual([a.id]);
    const loaded = await loadCheckpoint(b.checkpoints, id);
    expect(Buffer.compare(loaded.ram, a.ram)).toBe(0);
    expect(Buffer.compare(new Uint8Array(loaded.deviceState), new Uint8Array(makeDeviceState(8)))).toBe(0);
    // The disk arrives flattened into one layer with the checkpoint's layer id.
    const layerId = loaded.manifest.diskLayerId!;
    expect((await b.layers.ancestry(layerId)).length).toBe(1);
    expect((await b.layers.blockIndices(layerId)).sort((x, y) => x - y)).toEqual([...a.disk.keys()]);
    for (const [index, bytes] of a.disk) expect(Buffer.compare((await b.layers.readBlock(layerId, index))!, bytes)).toBe(0);
    // Progress is in sealed bytes and ends at the total the sharer announced (what was uploaded).
    expect(downloads.at(-1)).toEqual({ phase: "download", done: first.uploadedBytes, total: first.uploadedBytes });

    const again = await publishCheckpoint(a.deps, a.id, APP);
    expect(again).toMatchObject({ link: first.link, uploadedBytes: 0, skippedBytes: first.uploadedBytes });
    // Opening again is a no-op that returns the same checkpoint.
    expect(await openSharedCheckpoint(b, first.link)).toBe(a.id);
  });

  it("a tampered object fails with the integrity message and leaves the opener's stores as they were", async () => {
    const a = await sharer();
    const { link } = await publishCheckpoint(a.deps, a.id, APP);
    const { manifest } = await openShare(a.deps.client, link, isSharedCheckpoint);
    const names = Object.values(manifest.objects);
    const victim = names[names.length >> 1];
    await store.tamper("objects", victim, "tampered");
    const b = await side();
    await captureCheckpoint(b.checkpoints, captureInput("local-one", makeRam(3)));
    await expect(openSharedCheckpoint(b, link)).rejects.toMatchObject({ code: "integrity", message: expect.stringMatching(/failed its integrity check/) });
    expect(await listedIds(b)).toEqual(["local-one"]);
    expect(await b.checkpoints.db.getAll("pending")).toEqual([]);
    expect(await b.layers.listLayers()).toEqual([]);
    // A truncated object is caught the same way.
    await store.tamper("objects", victim, "");
    await expect(openSharedCheckpoint(b, link)).rejects.toMatchObject({ code: "integrity" });
  });

  it("wrong key, malformed link, other guest and a store that is down each fail with their own message", async () => {
    const a = await sharer();
    const { link } = await publishCheckpoint(a.deps, a.id, APP);
    const b = await side();
    const dot = link.lastIndexOf(".");
    const [head, key] = [link.slice(0, dot), link.slice(dot + 1)];
    const otherKey = (key[0] === "A" ? "B" : "A") + key.slice(1);
    await expect(openSharedCheckpoint(b, `${head}.${otherKey}`)).rejects.toMatchObject({ code: "wrong-key" });
    await expect(openSharedCheckpoint(b, `${APP}#share=nothex.${key}`)).rejects.toMatchObject({ code: "link-malformed", message: "This share link is malformed" });
    const otherGuest = await side({ ...GUEST, base: { ...GUEST.base, sha256: "cd".repeat(32) } });
    await expect(openSharedCheckpoint(otherGuest, link)).rejects.toMatchObject({ code: "guest-mismatch" });
    const down = await side(GUEST, new StoreClient({ baseUrl: "http://127.0.0.1:9/store" }));
    await expect(openSharedCheckpoint(down, link)).rejects.toMatchObject({ code: "store-unreachable" });
    await expect(publishCheckpoint({ ...a.deps, client: down.client }, a.id, APP)).rejects.toMatchObject({ code: "store-unreachable" });
    for (const deps of [b, otherGuest, down]) expect(await listedIds(deps)).toEqual([]);
  });

  it("a store that goes down while RAM streams fails the next fault with its own message, and nothing is listed", async () => {
    const own = await startStore();
    const client = new StoreClient({ baseUrl: own.baseUrl });
    const a = await sharer();
    const manifest = (await a.deps.checkpoints.getManifest(a.id))!;
    const nonZero = manifest.ram.chunks.flatMap((h, i) => (h ? [i] : []));
    const { link } = await publishCheckpoint({ ...a.deps, client }, a.id, APP);
    const b = await side(GUEST, client);
    const source = await SharedRamSource.resume(b, await preparedLazily(b, link));
    await source.read(nonZero[0]); // the guest runs on what came so far
    await own.stop();
    await expect(source.read(nonZero[1])).rejects.toMatchObject({ code: "store-unreachable", message: "The checkpoint store is not reachable" });
    expect(await source.commitIfComplete()).toBe(false);
    expect(await listedIds(b)).toEqual([]);
  });

  it("a pack whose stream stalls holds prefetch back only a few seconds, and the open still completes", async () => {
    const a = await sharer();
    const manifest = (await a.deps.checkpoints.getManifest(a.id))!;
    const nonZero = manifest.ram.chunks.flatMap((h, i) => (h ? [i] : []));
    const { link } = await publishCheckpoint({ ...a.deps, workingSet: async () => [nonZero[0] * (manifest.chunkSize / PAGE)] }, a.id, APP);
    // A store whose pack answer starts and never ends (until the opener drops it).
    class StallingClient extends StoreClient {
      override async getObjectStream(_name: string, options: { signal?: AbortSignal } = {}): Promise<ReadableStream<Uint8Array>> {
        return new ReadableStream({ start: (c) => options.signal?.addEventListener("abort", () => c.error(new DOMException("dropped", "AbortError"))) });
      }
    }
    const b = await side(GUEST, new StallingClient({ baseUrl: store.baseUrl }));
    const source = await SharedRamSource.resume(b, await preparedLazily(b, link));
    const t0 = performance.now();
    const all = await source.readMany(nonZero);
    expect(performance.now() - t0).toBeLessThan(10_000);
    nonZero.forEach((i, k) => expect(Buffer.compare(all[k], a.ram.subarray(i * manifest.chunkSize, (i + 1) * manifest.chunkSize))).toBe(0));
    expect(await source.commitIfComplete()).toBe(true);
    expect(await listedIds(b)).toEqual([a.id]);
  });

  it("refuses to share a checkpoint of a user's own image or of another guest build", async () => {
    const deps = await side();
    await captureCheckpoint(deps.checkpoints, captureInput("own", makeRam(1), { diskLayerId: null, machine: { ...MACHINE, guestImageId: "" } }));
    await expect(publishCheckpoint(deps, "own", APP)).rejects.toThrow(/built-in guest/);
    await captureCheckpoint(deps.checkpoints, captureInput("old", makeRam(1), { diskLayerId: null, machine: { ...MACHINE, guestImageId: "older-build" } }));
    await expect(publishCheckpoint(deps, "old", APP)).rejects.toThrow(/another build of the guest/);
    await expect(publishCheckpoint(deps, "nope", APP)).rejects.toThrow(/does not exist/);
  });

  it("the envelope validator accepts what publish makes and refuses inconsistent disks", async () => {
    const deps = await side();
    await captureCheckpoint(deps.checkpoints, captureInput("v", makeRam(2), { diskLayerId: "layer-v" }));
    const manifest = (await deps.checkpoints.getManifest("v"))!;
    const disk = { layerId: "layer-v", imageId: "sha256:x", blockSize: 4096, blocks: [[1, "ab".repeat(32)]] };
    expect(isSharedCheckpoint({ manifest, disk, sealedBytes: 10 })).toBe(true);
    expect(isSharedCheckpoint({ manifest, disk: null, sealedBytes: 10 })).toBe(false); // manifest names a layer
    expect(isSharedCheckpoint({ manifest, disk: { ...disk, layerId: "other" }, sealedBytes: 10 })).toBe(false);
    expect(isSharedCheckpoint({ manifest, disk: { ...disk, blockSize: 3000 }, sealedBytes: 10 })).toBe(false);
    expect(isSharedCheckpoint({ manifest, disk: { ...disk, blocks: [[1, "ab".repeat(32)], [1, "cd".repeat(32)]] }, sealedBytes: 10 })).toBe(false);
    expect(isSharedCheckpoint({ manifest, disk: { ...disk, blocks: [[-1, "ab".repeat(32)]] }, sealedBytes: 10 })).toBe(false);
    expect(isSharedCheckpoint({ manifest, disk, sealedBytes: 10, extra: 1 })).toBe(false);
    expect(() => isSharedCheckpoint({ manifest: { ...manifest, formatVersion: 9 }, disk, sealedBytes: 10 })).toThrow();
  });
});
