import { describe, expect, it } from "vitest";
import { captureCheckpoint } from "../../../src/checkpoint/capture";
import { splitNonZero } from "../../../src/checkpoint/chunks";
import { initCodec } from "../../../src/checkpoint/codec";
import { CheckpointCorruptError } from "../../../src/checkpoint/errors";
import { loadCheckpoint } from "../../../src/checkpoint/restore";
import { CHUNK, captureInput, makeDeviceState, makeRam, openTestStore } from "./fixtures";

describe("chunking", () => {
  it("skips all-zero chunks and keeps the index of each non-zero one", () => {
    const data = new Uint8Array(10 * CHUNK);
    data[3 * CHUNK + 5] = 1;
    data[9 * CHUNK + CHUNK - 1] = 2;
    const chunks = splitNonZero(data, CHUNK);
    expect(chunks.map((c) => c.index)).toEqual([3, 9]);
    expect(chunks[1].data[CHUNK - 1]).toBe(2);
    // Unaligned tails take the byte path and are still seen.
    expect(splitNonZero(data.subarray(1, 3 * CHUNK + 7), CHUNK).map((c) => c.index)).toEqual([3]);
  });
});

describe("capture and restore", () => {
  it("round-trips RAM and device state through the store", async () => {
    const store = await openTestStore();
    const ram = makeRam(1);
    const state = makeDeviceState();
    const phases: string[] = [];
    const m = await captureCheckpoint(store, captureInput("a", ram, { deviceState: state }), (p) => phases.push(p.phase));
    expect(phases.at(-1)).toBe("done");
    expect(m.ram.chunks.filter((h) => h === null).length).toBe(Math.ceil(ram.length / CHUNK / 3));
    expect(m.sizes.nonZeroBytes).toBe(splitNonZero(ram, CHUNK).length * CHUNK);
    expect(m.sizes.storedBytes).toBeLessThan(m.sizes.nonZeroBytes);
    expect(m.sizes.newBytes).toBe(m.sizes.storedBytes);

    const staging = new Uint8Array(ram.length).fill(0xee); // stale bytes must be overwritten with zeros
    const back = await loadCheckpoint(store, "a", staging);
    expect(Buffer.compare(back.ram, ram)).toBe(0);
    expect(Buffer.compare(new Uint8Array(back.deviceState), new Uint8Array(state))).toBe(0);
    expect((await store.listManifests()).map((x) => x.id)).toEqual(["a"]);
  });

  it("stores repeated chunks once and a second checkpoint after a tiny change adds little", async () => {
    const store = await openTestStore();
    const ram = makeRam(3);
    ram.copyWithin(4 * CHUNK, 2 * CHUNK, 3 * CHUNK); // chunk 4 duplicates chunk 2
    const m1 = await captureCheckpoint(store, captureInput("one", ram));
    const distinct = new Set(m1.ram.chunks.filter(Boolean)).size;
    expect(distinct).toBe(m1.ram.chunks.filter(Boolean).length - 1);

    const ram2 = ram.slice();
    ram2[10 * CHUNK + 100] ^= 0xff;
    const m2 = await captureCheckpoint(store, captureInput("two", ram2, { parent: "one" }));
    const changed = m2.ram.chunks.filter((h, i) => h !== m1.ram.chunks[i]).length;
    expect(changed).toBe(1);
    expect(m2.sizes.newBytes).toBeGreaterThan(0);
    expect(m2.sizes.newBytes).toBeLessThan(m1.sizes.newBytes / 10);
    expect(m2.sizes.storedBytes).toBeGreaterThan(m1.sizes.storedBytes - CHUNK);
  });

  it("lists nothing when a write fails before its manifest", async () => {
    const store = await openTestStore();
    const real = store.putChunks.bind(store);
    let calls = 0;
    store.putChunks = async (records) => {
      if (++calls === 1) return real(records); // some chunks land...
      throw new Error("quota exceeded"); // ...then the disk is full
    };
    const ram = makeRam(4, 16 * 1024 * 1024);
    const input = { ...captureInput("doomed", ram), machine: { ...captureInput("x", ram).machine, memoryBytes: ram.length } };
    await expect(captureCheckpoint(store, input)).rejects.toThrow("quota exceeded");
    expect(calls).toBeGreaterThan(1);
    expect(await store.listManifests()).toEqual([]);
    expect(await store.getManifest("doomed")).toBeUndefined();
    expect(await store.db.count("pending")).toBe(0);
    expect(await store.db.count("chunkMeta")).toBeGreaterThan(0); // orphans, for GC
  });

  it("refuses a manifest whose chunks are not all stored", async () => {
    const store = await openTestStore();
    const m = await captureCheckpoint(store, captureInput("x", makeRam(5)));
    const hash = m.ram.chunks.find(Boolean) as string;
    await store.db.delete("chunkMeta", hash);
    await expect(store.commitManifest({ ...m, id: "y" })).rejects.toThrow(CheckpointCorruptError);
    expect(await store.getManifest("y")).toBeUndefined();
  });

  it("reports a corrupt chunk naming the checkpoint and the chunk", async () => {
    await initCodec();
    const store = await openTestStore();
    const m = await captureCheckpoint(store, captureInput("broken-one", makeRam(6)));
    const hash = m.ram.chunks.find(Boolean) as string;
    const meta = await store.db.get("chunkMeta", hash);
    const bytes = new Uint8Array((await store.db.get("chunks", hash)) as ArrayBuffer);
    bytes[bytes.length >> 1] ^= 0x55;
    await store.db.put("chunks", bytes.buffer, hash);
    const err = await loadCheckpoint(store, "broken-one").then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CheckpointCorruptError);
    expect((err as CheckpointCorruptError).checkpointId).toBe("broken-one");
    expect((err as CheckpointCorruptError).chunkHash).toBe(hash);
    expect((err as Error).message).toContain("broken-one");
    expect(meta).toBeDefined();
  });

  it("deletes a damaged chunk it meets, so the next capture with those bytes stores a good copy", async () => {
    await initCodec();
    const store = await openTestStore();
    const ram = makeRam(7);
    const m = await captureCheckpoint(store, captureInput("damaged", ram));
    const hash = m.ram.chunks.find(Boolean) as string;
    const bytes = new Uint8Array((await store.db.get("chunks", hash)) as ArrayBuffer);
    for (let i = 0; i < bytes.length; i += 97) bytes[i] ^= 0x5a;
    await store.db.put("chunks", bytes.buffer, hash);
    await expect(store.readVerified([hash], "damaged")).rejects.toThrow(CheckpointCorruptError);
    expect(await store.db.get("chunks", hash)).toBeUndefined();
    // Without the quarantine this capture would dedupe against the damaged record.
    const again = await captureCheckpoint(store, captureInput("again", ram));
    expect(again.ram.chunks).toEqual(m.ram.chunks);
    await expect(loadCheckpoint(store, "again")).resolves.toBeDefined();
  });
});
