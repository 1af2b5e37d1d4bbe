/**
 * End-to-end capture of the real guest RAM (.cache/ram-after-boot.bin, written by
 * `npm run bench:ram-dump`) into fake-indexeddb, then a second capture after one command.
 * Skipped when the dumps are absent. Timings here include fake-indexeddb, which is slower than
 * a browser's IndexedDB; the CPU part is what bench/compression.mjs measures.
 */
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { captureCheckpoint, type CaptureTimings } from "../../../src/checkpoint/capture";
import { DEFAULT_CHUNK_SIZE } from "../../../src/checkpoint/chunks";
import { loadCheckpoint } from "../../../src/checkpoint/restore";
import { MACHINE, makeDeviceState, openTestStore } from "./fixtures";

const A = ".cache/ram-after-boot.bin";
const B = ".cache/ram-after-command.bin";

describe.skipIf(!existsSync(A) || !existsSync(B))("capture of a real 128 MiB guest RAM", () => {
  it("stores it, and a second checkpoint after one command adds under 10 %", async () => {
    const store = await openTestStore();
    const ramA = new Uint8Array(readFileSync(A));
    const ramB = new Uint8Array(readFileSync(B));
    const machine = { ...MACHINE, memoryBytes: ramA.length };
    const base = { parent: null, machine, diskLayerId: null, thumbnail: null, deviceState: makeDeviceState(), chunkSize: DEFAULT_CHUNK_SIZE };
    const t1: Partial<CaptureTimings> = {};
    const m1 = await captureCheckpoint(store, { ...base, id: "boot", label: "boot", ram: ramA }, undefined, t1);
    const t2: Partial<CaptureTimings> = {};
    const m2 = await captureCheckpoint(store, { ...base, id: "cmd", label: "cmd", parent: "boot", ram: ramB }, undefined, t2);
    const tr = performance.now();
    const back = await loadCheckpoint(store, "cmd");
    const restoreMs = performance.now() - tr;
    const mb = (n: number): string => (n / 1e6).toFixed(2);
    console.log(
      `chunk ${DEFAULT_CHUNK_SIZE / 1024} KiB; 1st: non-zero ${mb(m1.sizes.nonZeroBytes)} MB, stored ${mb(m1.sizes.newBytes)} MB, ` +
        `hash ${t1.hashMs?.toFixed(0)} ms, compress ${t1.compressMs?.toFixed(0)} ms, store wait ${t1.storeWaitMs?.toFixed(0)} ms, total ${t1.totalMs?.toFixed(0)} ms; ` +
        `2nd: new ${mb(m2.sizes.newBytes)} MB of ${mb(m2.sizes.storedBytes)} MB (${((100 * m2.sizes.newBytes) / m2.sizes.storedBytes).toFixed(1)} %), total ${t2.totalMs?.toFixed(0)} ms; ` +
        `restore (fake-indexeddb) ${restoreMs.toFixed(0)} ms`,
    );
    expect(Buffer.compare(back.ram, ramB)).toBe(0);
    expect(m2.sizes.newBytes / m2.sizes.storedBytes).toBeLessThan(0.1);
  }, 120_000);
});
