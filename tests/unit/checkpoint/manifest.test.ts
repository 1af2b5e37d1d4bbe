import { describe, expect, it } from "vitest";
import { CheckpointFormatError, CheckpointIncompatibleError } from "../../../src/checkpoint/errors";
import { checkRestorable, decodeManifest, encodeManifest, formatVersionFor, manifestDiskLayers, type CheckpointManifest } from "../../../src/checkpoint/manifest";
import { CHUNK, MACHINE } from "./fixtures";

const H = (c: string): string => c.repeat(64);

function sample(): CheckpointManifest {
  const ramChunks: (string | null)[] = new Array(MACHINE.memoryBytes / CHUNK).fill(null);
  ramChunks[1] = H("a");
  ramChunks[5] = H("b");
  return {
    formatVersion: 1,
    id: "ck_1",
    parent: null,
    label: "after boot",
    created: 1_700_000_000_000,
    machine: { ...MACHINE },
    chunkSize: CHUNK,
    codec: "zstd",
    hashAlgorithm: "sha256",
    deviceState: { length: 100_000, chunks: [H("c"), null] },
    ram: { length: MACHINE.memoryBytes, chunks: ramChunks },
    diskLayerId: "layer-1",
    thumbnail: { mime: "image/png", base64: "iVBORw0KGgo=" },
    sizes: { ramBytes: MACHINE.memoryBytes, nonZeroBytes: 2 * CHUNK, storedBytes: 1234, newBytes: 1000 },
  };
}

function mutated(change: (m: Record<string, unknown>) => void): Uint8Array {
  const m = JSON.parse(JSON.stringify(sample())) as Record<string, unknown>;
  change(m);
  return new TextEncoder().encode(JSON.stringify(m));
}

/** A user's machine (format v2): a floppy and a hard disk, both writable, and a CD-ROM. */
function userMachine(): CheckpointManifest {
  const drives = [
    { kind: "fda" as const, imageId: "url:http://h/a.img#1474560#Tue#ab" },
    { kind: "hda" as const, imageId: "file:disk.img#1000#5" },
    { kind: "cdrom" as const, imageId: "url:http://h/c.iso#2048##cd" },
  ];
  return {
    ...sample(),
    formatVersion: 2,
    machine: { ...MACHINE, guestImageId: "own:" + H("d"), drives },
    diskLayerId: "layer-1",
    driveLayers: [
      { kind: "fda", diskLayerId: "layer-1" },
      { kind: "hda", diskLayerId: "layer-2" },
    ],
  };
}

describe("manifest", () => {
  it("round-trips through encode/decode", () => {
    const m = sample();
    expect(decodeManifest(encodeManifest(m))).toEqual(m);
  });

  it("names a newer format version clearly", () => {
    expect(() => decodeManifest(mutated((m) => (m.formatVersion = 3)))).toThrow("checkpoint format v3 is newer than this snap86 (v2)");
  });

  it("reads v2: a user machine's drives and each writable drive's layer", () => {
    const m = userMachine();
    expect(decodeManifest(encodeManifest(m))).toEqual(m);
    expect(formatVersionFor(m)).toBe(2);
    expect(formatVersionFor(sample())).toBe(1);
    expect(manifestDiskLayers(m)).toEqual(["layer-1", "layer-2"]);
    expect(manifestDiskLayers(sample())).toEqual(["layer-1"]);
  });

  it("refuses v2 fields in a v1 manifest and inconsistent drive layers", () => {
    const v1 = { ...userMachine(), formatVersion: 1 as const };
    expect(() => decodeManifest(encodeManifest(v1))).toThrow(/unknown field "driveLayers"/);
    const noLayer0 = userMachine();
    noLayer0.diskLayerId = "layer-2";
    expect(() => decodeManifest(encodeManifest(noLayer0))).toThrow(/driveLayers\[0\] must be the manifest's diskLayerId/);
    const cdLayer = userMachine();
    (cdLayer.driveLayers![1] as { kind: string }).kind = "cdrom";
    expect(() => decodeManifest(encodeManifest(cdLayer))).toThrow(/must be fda or hda/);
  });

  it("refuses a checkpoint of another user machine, naming both", () => {
    const m = userMachine();
    const other = { ...m.machine, guestImageId: "own:other", drives: [{ kind: "hda" as const, imageId: "url:http://h/b.img#1474560##ab" }] };
    expect(() => checkRestorable(m, m.machine)).not.toThrow();
    expect(() => checkRestorable(m, other)).toThrow(/belongs to another machine \(fda a\.img, hda disk\.img, cdrom c\.iso\), not the one running \(hda b\.img\)/);
  });

  it.each([
    ["not JSON", new TextEncoder().encode("{nope")],
    ["an array", new TextEncoder().encode("[]")],
    ["no version", mutated((m) => delete m.formatVersion)],
    ["an unknown field", mutated((m) => (m.extra = 1))],
    ["a bad hash", mutated((m) => ((m.ram as { chunks: unknown[] }).chunks[1] = "xyz"))],
    ["a wrong chunk count", mutated((m) => (m.ram as { chunks: unknown[] }).chunks.push(null))],
    ["a non power-of-two chunk size", mutated((m) => (m.chunkSize = 3 * 4096))],
    ["RAM length not matching the machine", mutated((m) => ((m.machine as { memoryBytes: number }).memoryBytes = 8 * 1024 * 1024))],
    ["another hash algorithm", mutated((m) => (m.hashAlgorithm = "md5"))],
    ["an id with slashes", mutated((m) => (m.id = "../etc"))],
    ["a script thumbnail", mutated((m) => (m.thumbnail = { mime: "text/html", base64: "PHNjcmlwdD4=" }))],
    ["a negative size", mutated((m) => ((m.sizes as { newBytes: number }).newBytes = -1))],
  ])("rejects %s", (_name, bytes) => {
    expect(() => decodeManifest(bytes)).toThrow(CheckpointFormatError);
  });

  it("refuses restoring into a different machine with a clear reason", () => {
    const m = sample();
    expect(() => checkRestorable(m, { ...MACHINE })).not.toThrow();
    expect(() => checkRestorable(m, { ...MACHINE, memoryBytes: 8 * 1024 * 1024 })).toThrow("needs 4 MiB of RAM, the machine has 8 MiB");
    expect(() => checkRestorable(m, { ...MACHINE, vgaMemoryBytes: 8 * 1024 * 1024 })).toThrow(/video memory/);
    expect(() => checkRestorable(m, { ...MACHINE, v86Version: "0.5.999" })).toThrow(/made with v86 0\.5\.462; this snap86 runs v86 0\.5\.999/);
    expect(() => checkRestorable(m, { ...MACHINE, guestImageId: "other" })).toThrow(CheckpointIncompatibleError);
  });
});
