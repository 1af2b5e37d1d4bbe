import { afterEach, describe, expect, it, vi } from "vitest";
import { captureCheckpoint } from "../../../src/checkpoint/capture";
import { collectGarbage, deleteCheckpoint } from "../../../src/checkpoint/gc";
import { manifestChunkHashes } from "../../../src/checkpoint/manifest";
import { captureInput, makeRam, openTestStore } from "../checkpoint/fixtures";

// Issue 16 defect 9: deleting a checkpoint ran GC at once, taking chunks a running lazy restore
// still needed; pending writes had no heartbeat, so an open over 10 minutes lost reused chunks.
const noLocks = { locks: undefined };

afterEach(() => {
  vi.useRealTimers();
});

describe("chunks in use survive collection", () => {
  it("keeps a pinned checkpoint's chunks after it is deleted, until the pin is released", async () => {
    const store = await openTestStore();
    await captureCheckpoint(store, captureInput("running", makeRam(3)));
    const m = (await store.getManifest("running"))!;
    const hashes = [...manifestChunkHashes(m)];
    const release = await store.pin("lazy-restore:1:running", hashes);
    await deleteCheckpoint(store, "running");
    const first = await collectGarbage(store, noLocks);
    expect(first.deletedChunks).toBe(0);
    await expect(store.readVerified(hashes.slice(0, 3), "running")).resolves.toHaveLength(3);
    await release();
    const second = await collectGarbage(store, noLocks);
    expect(second.deletedChunks).toBe(hashes.length);
  });

  it("a write open longer than the staleness limit keeps its reused chunks (heartbeat)", async () => {
    const store = await openTestStore();
    await captureCheckpoint(store, captureInput("old", makeRam(5)));
    const hashes = [...manifestChunkHashes((await store.getManifest("old"))!)];
    vi.useFakeTimers({ toFake: ["Date"] });
    const t0 = Date.now();
    await store.beginWrite("slow-open", hashes);
    await deleteCheckpoint(store, "old");
    // 9 minutes in, the heartbeat renews the entry; at 11 minutes GC runs.
    vi.setSystemTime(t0 + 9 * 60_000);
    await store.renewPending();
    vi.setSystemTime(t0 + 11 * 60_000);
    const gc = await collectGarbage(store, { ...noLocks, now: Date.now() });
    expect(gc.stalePendingRemoved).toBe(0);
    expect(gc.deletedChunks).toBe(0);
    await store.abortWrite("slow-open");
  });
});
