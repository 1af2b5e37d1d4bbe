import { describe, expect, it, vi } from "vitest";
import { captureCheckpoint } from "../../../src/checkpoint/capture";
import { loadCheckpoint } from "../../../src/checkpoint/restore";
import { captureInput, makeRam, openTestStore } from "../checkpoint/fixtures";

// Issue 16 defect 11: restore allocated device state and RAM before checking compatibility.
describe("restore checks compatibility first", () => {
  it("refuses an incompatible checkpoint before reading a chunk or making a buffer", async () => {
    const store = await openTestStore();
    await captureCheckpoint(store, captureInput("big", makeRam(2)));
    const m = (await store.getManifest("big"))!;
    const reads = vi.spyOn(store, "getChunkRecords");
    const machine = { ...m.machine, memoryBytes: m.machine.memoryBytes * 2 };
    await expect(loadCheckpoint(store, "big", undefined, { machine })).rejects.toMatchObject({ code: "checkpoint-incompatible" });
    expect(reads).not.toHaveBeenCalled();
  });

  it("loads a compatible one", async () => {
    const store = await openTestStore();
    await captureCheckpoint(store, captureInput("ok", makeRam(4)));
    const m = (await store.getManifest("ok"))!;
    await expect(loadCheckpoint(store, "ok", undefined, { machine: m.machine })).resolves.toMatchObject({ manifest: { id: "ok" } });
  });
});
