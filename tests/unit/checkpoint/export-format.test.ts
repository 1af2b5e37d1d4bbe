import { describe, expect, it } from "vitest";
import { captureCheckpoint } from "../../../src/checkpoint/capture";
import { crc32 } from "../../../src/checkpoint/crc32";
import { CheckpointFormatError } from "../../../src/checkpoint/errors";
import { CONTAINER_VERSION, exportCheckpointBlob, importCheckpoint, type ExtraSection } from "../../../src/checkpoint/export-format";
import { loadCheckpoint } from "../../../src/checkpoint/restore";
import { captureInput, makeDeviceState, makeRam, openTestStore } from "./fixtures";

async function* diskSections(): AsyncGenerator<ExtraSection> {
  yield { kind: "disk-layer", layerId: "layer-x", meta: new TextEncoder().encode('{"parent":null}') };
  yield { kind: "disk-block", layerId: "layer-x", blockIndex: 7, bytes: new Uint8Array(4096).fill(9) };
  yield { kind: "disk-block", layerId: "layer-x", blockIndex: 2 ** 40 + 3, bytes: new Uint8Array([1, 2, 3]) };
}

async function exported(): Promise<{ bytes: Uint8Array; ram: Uint8Array; state: ArrayBuffer }> {
  const store = await openTestStore();
  const ram = makeRam(20);
  const state = makeDeviceState(21);
  await captureCheckpoint(store, captureInput("shared", ram, { deviceState: state, diskLayerId: "layer-x", thumbnail: { mime: "image/png", base64: "AAAA" } }));
  const blob = await exportCheckpointBlob(store, "shared", diskSections());
  return { bytes: new Uint8Array(await blob.arrayBuffer()), ram, state };
}

describe(".snap86 export/import", () => {
  it("round-trips a checkpoint and its disk sections into another store", async () => {
    const { bytes, ram, state } = await exported();
    const target = await openTestStore();
    const sections: ExtraSection[] = [];
    let listedDuringSections = -1;
    const r = await importCheckpoint(target, new Blob([bytes as Uint8Array<ArrayBuffer>]), async (s) => {
      sections.push(s);
      listedDuringSections = (await target.listManifests()).length;
    });
    expect(r.alreadyPresent).toBe(false);
    expect(r.chunksAdded).toBeGreaterThan(0);
    expect(listedDuringSections).toBe(0); // disk data arrives before the checkpoint is listed
    expect(sections.map((s) => s.kind)).toEqual(["disk-layer", "disk-block", "disk-block"]);
    const big = sections[2];
    expect(big.kind === "disk-block" && big.blockIndex).toBe(2 ** 40 + 3);
    const b7 = sections[1];
    expect(b7.kind === "disk-block" && b7.bytes.every((v) => v === 9) && b7.bytes.length).toBe(4096);

    const back = await loadCheckpoint(target, "shared");
    expect(Buffer.compare(back.ram, ram)).toBe(0);
    expect(Buffer.compare(new Uint8Array(back.deviceState), new Uint8Array(state))).toBe(0);
    expect(back.manifest.thumbnail).toEqual({ mime: "image/png", base64: "AAAA" });
    expect((await importCheckpoint(target, bytes)).alreadyPresent).toBe(true);
  });

  it("refuses a foreign file", async () => {
    const target = await openTestStore();
    await expect(importCheckpoint(target, new TextEncoder().encode("PK\u0003\u0004 not a checkpoint at all"))).rejects.toThrow("this is not a snap86 checkpoint file");
  });

  it("refuses a file from a newer snap86", async () => {
    const { bytes } = await exported();
    new DataView(bytes.buffer, bytes.byteOffset).setUint32(8, CONTAINER_VERSION + 1, true);
    await expect(importCheckpoint(await openTestStore(), bytes)).rejects.toThrow(new RegExp(`newer snap86 \\(file format v${CONTAINER_VERSION + 1}`));
  });

  it("writes container v1 without image records, so builds that read only v1 still import it", async () => {
    const { bytes } = await exported();
    expect(new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true)).toBe(1);
  });

  it.each([
    ["a flipped byte in a chunk", (b: Uint8Array) => { b[Math.floor(b.length / 2)] ^= 1; return b; }],
    ["a flipped byte in the manifest", (b: Uint8Array) => { b[40] ^= 1; return b; }],
    ["a truncated file", (b: Uint8Array) => b.subarray(0, b.length - 100)],
    ["trailing garbage", (b: Uint8Array) => { const o = new Uint8Array(b.length + 3); o.set(b); return o; }],
  ])("refuses a damaged file: %s, storing nothing", async (_name, damage) => {
    const { bytes } = await exported();
    const target = await openTestStore();
    const err = await importCheckpoint(target, damage(bytes)).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointFormatError);
    expect((err as Error).message).toMatch(/damaged|incomplete/);
    expect(await target.listManifests()).toEqual([]);
    expect(await target.db.count("chunks")).toBe(0);
  });

  it("refuses a chunk that does not match its hash even when the checksum was forged", async () => {
    const { bytes } = await exported();
    bytes[Math.floor(bytes.length / 2)] ^= 1;
    new DataView(bytes.buffer, bytes.byteOffset).setUint32(bytes.length - 4, crc32(bytes.subarray(0, bytes.length - 4)), true);
    const target = await openTestStore();
    await expect(importCheckpoint(target, bytes)).rejects.toThrow(/does not match its hash|damaged/);
    expect(await target.listManifests()).toEqual([]);
  });
});
