import { describe, expect, it } from "vitest";
import { CheckpointFormatError, CheckpointIncompatibleError } from "../../../src/checkpoint/errors";
import { checkRestorable, decodeManifest, encodeManifest, type CheckpointManifest } from "../../../src/checkpoint/manifest";
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

describe("manifest", () => {
  it("round-trips through encode/decode", () => {
    const m = sample();
    expect(decodeManifest(encodeManifest(m))).toEqual(m);
  });

  it("names a newer format version clearly", () => {
    expect(() => decodeManifest(mutated((m) => (m.formatVersion = 2)))).toThrow("checkpoint format v2 is newer than this snap86 (v1)");
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
