// A capture over a listed base (issue 19): the base's chunks are known stored through their
// checkpoint's record, not looked up one by one, so beginning and committing a write cost what
// changed since the base, not what RAM holds. The checkpoint stored is the same either way.
import { afterEach, describe, expect, it, vi } from "vitest";
import { captureCheckpoint } from "../../../src/checkpoint/capture";
import { CaptureWriter } from "../../../src/checkpoint/capture-writer";
import type { CheckpointStore } from "../../../src/checkpoint/checkpoint-store";
import { CheckpointCorruptError } from "../../../src/checkpoint/errors";
import { collectGarbage, deleteCheckpoint } from "../../../src/checkpoint/gc";
import { manifestChunkHashes } from "../../../src/checkpoint/manifest";
import { CHUNK, captureInput, makeDeviceState, makeRam, openTestStore } from "./fixtures";

const noLocks = { locks: undefined };
const CHANGED = [1, 2, 5];

afterEach(() => {
  vi.restoreAllMocks();
});

/** Checkpoint "base" of makeRam(1), then "next": the same RAM with chunks CHANGED rewritten, streamed over the base. */
async function captureOver(store: CheckpointStore, useBaseId: boolean, between?: () => Promise<void>) {
  const ram = makeRam(1);
  await captureCheckpoint(store, captureInput("base", ram));
  const base = (await store.getManifest("base"))!;
  const next = ram.slice();
  for (const c of CHANGED) next.fill(0x40 + c, c * CHUNK, (c + 1) * CHUNK);
  const { ram: _, ...meta } = captureInput("next", next, { parent: "base" });
  await between?.();
  const writer = await CaptureWriter.begin(store, {
    ...meta,
    deviceState: makeDeviceState(),
    ramLength: next.byteLength,
    chunkSize: CHUNK,
    base: base.ram.chunks,
    ...(useBaseId ? { baseId: "base" } : {}),
  });
  return { writer, base, next };
}

async function sendChanged(writer: CaptureWriter, next: Uint8Array): Promise<void> {
  const data = new Uint8Array(CHANGED.length * CHUNK);
  CHANGED.forEach((c, i) => data.set(next.subarray(c * CHUNK, (c + 1) * CHUNK), i * CHUNK));
  await writer.addRam(CHANGED, data);
}

describe("a capture over a listed base", () => {
  it("stores the same checkpoint as one that looks up every chunk", async () => {
    const manifests = [];
    for (const useBaseId of [false, true]) {
      const store = await openTestStore();
      const { writer, next } = await captureOver(store, useBaseId);
      await sendChanged(writer, next);
      manifests.push(await writer.commit());
      await expect(store.readVerified([...manifestChunkHashes(manifests.at(-1)!)], "next")).resolves.toBeDefined();
    }
    expect(manifests[1]).toEqual(manifests[0]);
    expect(manifests[1].sizes.storedBytes).toBeGreaterThan(0);
  });

  it("looks up only the chunks that are not the base's, at begin and at commit", async () => {
    const counted = async (useBaseId: boolean) => {
      const store = await openTestStore();
      const gets = vi.spyOn(IDBObjectStore.prototype, "get");
      const keys = vi.spyOn(IDBObjectStore.prototype, "getKey");
      const { writer, base, next } = await captureOver(store, useBaseId, async () => {
        gets.mockClear();
        keys.mockClear();
      });
      const atBegin = gets.mock.calls.length;
      keys.mockClear();
      await sendChanged(writer, next);
      await writer.commit();
      const atCommit = keys.mock.calls.length;
      vi.restoreAllMocks();
      return { atBegin, atCommit, baseChunks: base.ram.chunks.filter((h) => h !== null).length };
    };
    const looked = await counted(false);
    const covered = await counted(true);
    expect(looked.baseChunks).toBeGreaterThan(30);
    expect(looked.atBegin).toBeGreaterThanOrEqual(looked.baseChunks);
    expect(looked.atCommit).toBeGreaterThanOrEqual(looked.baseChunks);
    // Device state chunks, the manifest's existence check, the changed chunks: never the base's.
    expect(covered.atBegin).toBeLessThan(looked.atBegin - looked.baseChunks + 10);
    expect(covered.atCommit).toBeLessThan(looked.atCommit - looked.baseChunks + CHANGED.length + 10);
  });

  it("keeps the base's chunks while the write is open, even if the base is deleted and collected", async () => {
    const store = await openTestStore();
    const { writer, next } = await captureOver(store, true);
    await deleteCheckpoint(store, "base");
    await collectGarbage(store, noLocks);
    await sendChanged(writer, next);
    const m = await writer.commit();
    await expect(store.readVerified([...manifestChunkHashes(m)], "next")).resolves.toHaveLength(manifestChunkHashes(m).size);
  });

  it("a base no longer listed when the write begins: its chunks are looked up one by one", async () => {
    const store = await openTestStore();
    // Deleted, not yet collected: the chunks are there, found by lookup.
    const kept = await captureOver(store, true, () => deleteCheckpoint(store, "base").then(() => undefined));
    await sendChanged(kept.writer, kept.next);
    await expect(kept.writer.commit()).resolves.toMatchObject({ id: "next" });
    // Deleted and collected: the chunks are gone, and the commit says so instead of listing a hole.
    const other = await openTestStore();
    const gone = await captureOver(other, true, async () => {
      await deleteCheckpoint(other, "base");
      await collectGarbage(other, noLocks);
    });
    await sendChanged(gone.writer, gone.next);
    await expect(gone.writer.commit()).rejects.toBeInstanceOf(CheckpointCorruptError);
  });
});

describe("a write's later parts", () => {
  it("pin their chunks in rows of their own, kept by GC while open, all gone when it ends", async () => {
    for (const end of ["commit", "abort"] as const) {
      const store = await openTestStore();
      const { writer, next } = await captureOver(store, true);
      await sendChanged(writer, next);
      const rows = await store.db.getAll("pending");
      expect(rows.length).toBe(2);
      // The part's row names only the part's chunks, not the base's thousands again.
      expect(Math.min(...rows.map((r) => r.hashes.length))).toBeLessThanOrEqual(CHANGED.length);
      await deleteCheckpoint(store, "base");
      expect((await collectGarbage(store, noLocks)).deletedChunks).toBe(0);
      if (end === "commit") await writer.commit();
      else await writer.abort();
      expect(await store.db.getAll("pending")).toEqual([]);
    }
  });
});

describe("parts sent at once", () => {
  it("each pins its chunks in a row of its own", async () => {
    const store = await openTestStore();
    const { writer } = await captureOver(store, true);
    await Promise.all([store.extendWrite("next", ["a".repeat(64)]), store.extendWrite("next", ["b".repeat(64)])]);
    const rows = (await store.db.getAll("pending")).filter((r) => r.id !== "next");
    expect(rows.map((r) => r.hashes).sort()).toEqual([["a".repeat(64)], ["b".repeat(64)]]);
    await writer.abort();
    expect(await store.db.getAll("pending")).toEqual([]);
  });
});

describe("beginning a write on an empty store", () => {
  it("reads no chunk one by one (a first visit's), and finds chunks once some are stored", async () => {
    const store = await openTestStore();
    const hashes = Array.from({ length: 200 }, (_, i) => i.toString(16).padStart(64, "0"));
    const gets = vi.spyOn(IDBObjectStore.prototype, "get");
    expect(await store.beginWrite("first", hashes)).toEqual(new Map());
    expect(gets).not.toHaveBeenCalled();
    await store.abortWrite("first");
    await captureCheckpoint(store, captureInput("stored", makeRam(2)));
    const stored = [...manifestChunkHashes((await store.getManifest("stored"))!)];
    gets.mockClear();
    const present = await store.beginWrite("second", [...hashes, ...stored]);
    expect(gets.mock.calls.length).toBeGreaterThanOrEqual(hashes.length);
    expect([...present.keys()].sort()).toEqual([...new Set(stored)].sort());
    await store.abortWrite("second");
  });
});
