// The RAM loader's sessions: a share opened ahead of its session (on "warm", so its pack streams
// while the machine is still being prepared) is taken by the session that begins on it instead of
// opening the link again; a resume prefetches first what the machine's last resume touched.
import "fake-indexeddb/auto";
import { describe, expect, it } from "vitest";
import { CONTROL, createFaultBuffers } from "../../../src/lazy/fault-channel";
import { ramLoader, type LocalCheckpoints, type SharedRamSource } from "../../../src/lazy/ram-loader";
import type { LoaderMessage } from "../../../src/protocol/ram-loader";
import type { OpenedShareLink } from "../../../src/protocol/checkpoint-io";
import type { CheckpointManifest } from "../../../src/checkpoint/manifest";
import { WorkingSetStore } from "../../../src/lazy/working-set-store";

const CHUNK = 32 * 1024;
const link = (id: string) => ({ manifest: { id, chunkSize: CHUNK, ram: { length: CHUNK, chunks: [null] } } }) as unknown as OpenedShareLink;

function source(id: string): SharedRamSource {
  return {
    manifest: { id } as CheckpointManifest,
    read: async () => new Uint8Array(CHUNK),
    readMany: async (indices) => indices.map(() => new Uint8Array(CHUNK)),
    commitIfComplete: async () => true,
  };
}

async function begin(handle: ReturnType<typeof ramLoader>, posted: LoaderMessage[], session: number, share: OpenedShareLink) {
  const buffers = createFaultBuffers(CHUNK);
  handle({ type: "begin", session, checkpointId: share.manifest.id, buffers, order: [], share });
  for (let i = 0; i < 200 && !posted.some((p) => p.session === session && p.type === "ready"); i++) await new Promise((r) => setTimeout(r, 5));
  // Ends the session's fault loop: the test has what it needs.
  Atomics.store(new Int32Array(buffers.control), CONTROL.closed, 1);
  Atomics.notify(new Int32Array(buffers.control), CONTROL.state);
}

describe("ramLoader: a share opened ahead of its session", () => {
  it("is opened once, on warm, and used by the session that begins on it", async () => {
    const opened: string[] = [];
    const posted: LoaderMessage[] = [];
    const handle = ramLoader({
      store: async () => ({}) as LocalCheckpoints,
      openShared: async (l) => (opened.push(l.manifest.id), source(l.manifest.id)),
      post: (m) => void posted.push(m),
    });
    handle({ type: "warm", share: link("shared-a") });
    expect(opened).toEqual(["shared-a"]);
    await begin(handle, posted, 1, link("shared-a"));
    expect(posted.filter((p) => p.session === 1).map((p) => p.type)).toContain("ready");
    expect(opened).toEqual(["shared-a"]);
    // Taken once: a later session on another link opens that link itself.
    await begin(handle, posted, 2, link("shared-b"));
    expect(opened).toEqual(["shared-a", "shared-b"]);
    expect(posted.filter((p) => p.session === 2).map((p) => p.type)).toContain("ready");
  });
});

describe("ramLoader: a resume", () => {
  it("prefetches the pages the machine's last resume touched first, then the checkpoint's own working set", async () => {
    // 8 chunks of 8 pages; chunk k holds pages 8k..8k+7.
    const chunks = Array.from({ length: 8 }, (_, k) => `hash-${k}`);
    const share = { manifest: { id: "autosave-2", chunkSize: CHUNK, ram: { length: 8 * CHUNK, chunks } } } as unknown as OpenedShareLink;
    const ws = await WorkingSetStore.open();
    await ws.merge("autosave-2", [8 * 5, 8 * 6]); // before its capture: chunks 5, 6
    await ws.merge("resume:machine-a", [8 * 2, 8 * 3 + 1]); // after the last resume: chunks 2, 3
    ws.close();
    const reads: number[][] = [];
    const handle = ramLoader({
      store: async () => ({}) as LocalCheckpoints,
      openShared: async () => ({ ...source("autosave-2"), readMany: async (indices) => (reads.push([...indices]), indices.map(() => new Uint8Array(CHUNK))) }),
      post: () => undefined,
    });
    const buffers = createFaultBuffers(CHUNK);
    handle({ type: "begin", session: 7, checkpointId: "autosave-2", buffers, order: [0, 1, 2, 3, 4, 5, 6, 7], share, resumeKey: "resume:machine-a" });
    await expect.poll(() => reads.flat().length).toBeGreaterThanOrEqual(4);
    expect(reads.flat().slice(0, 4)).toEqual([2, 3, 5, 6]);
    Atomics.store(new Int32Array(buffers.control), CONTROL.closed, 1);
    Atomics.notify(new Int32Array(buffers.control), CONTROL.state);
  });
});

describe("ramLoader: a session save read ahead of its resume", () => {
  it("reads the working set's chunks on warm, so the session that begins on it reads none of them again", async () => {
    const chunks = Array.from({ length: 8 }, (_, k) => `pre-${k}`);
    const manifest = { id: "autosave-9", chunkSize: CHUNK, ram: { length: 8 * CHUNK, chunks } } as unknown as CheckpointManifest;
    const ws = await WorkingSetStore.open();
    await ws.merge("autosave-9", [8 * 1, 8 * 4]); // chunks 1, 4
    await ws.merge("resume:machine-p", [8 * 6]); // chunk 6
    ws.close();
    const reads: string[][] = [];
    const store: LocalCheckpoints = {
      getManifest: async (id) => (id === manifest.id ? manifest : undefined),
      readVerified: async (hashes) => (reads.push([...hashes]), hashes.map(() => new Uint8Array(CHUNK))),
      pin: async () => async () => undefined,
    };
    const posted: LoaderMessage[] = [];
    const handle = ramLoader({ store: async () => store, openShared: async () => source("none"), post: (m) => void posted.push(m) });
    handle({ type: "warm", resume: { checkpointId: "autosave-9", resumeKey: "resume:machine-p" } });
    await expect.poll(() => reads.flat().length).toBe(3);
    expect(reads.flat()).toEqual(["pre-6", "pre-1", "pre-4"]);
    const buffers = createFaultBuffers(CHUNK);
    handle({ type: "begin", session: 11, checkpointId: "autosave-9", buffers, order: [0, 1, 2, 3, 4, 5, 6, 7], resumeKey: "resume:machine-p" });
    await expect.poll(() => posted.some((p) => p.session === 11 && p.type === "warmed")).toBe(true);
    // The session sent those three from the decoded cache: the store saw only the chunks after them.
    await expect.poll(() => posted.filter((p) => p.session === 11 && p.type === "chunk").length).toBe(8);
    expect(reads.flat().filter((h) => ["pre-6", "pre-1", "pre-4"].includes(h))).toHaveLength(3);
    Atomics.store(new Int32Array(buffers.control), CONTROL.closed, 1);
    Atomics.notify(new Int32Array(buffers.control), CONTROL.state);
  });
});

describe("ramLoader: a read-ahead's pin", () => {
  const manifestOf = (id: string) => ({ id, chunkSize: CHUNK, ram: { length: 2 * CHUNK, chunks: [`${id}-0`, `${id}-1`] } }) as unknown as CheckpointManifest;
  function recordingStore(events: string[]): LocalCheckpoints {
    return {
      getManifest: async (id) => manifestOf(id),
      readVerified: async (hashes) => (events.push(`read:${hashes.join(",")}`), hashes.map(() => new Uint8Array(CHUNK))),
      pin: async (pinId) => (events.push(`pin:${pinId}`), async () => void events.push(`unpin:${pinId}`)),
    };
  }

  it("is taken before any chunk is read, and the session that begins on it pins nothing more", async () => {
    const ws = await WorkingSetStore.open();
    await ws.merge("autosave-20", [0, 8]);
    ws.close();
    const events: string[] = [];
    const posted: LoaderMessage[] = [];
    const handle = ramLoader({ store: async () => recordingStore(events), openShared: async () => source("none"), post: (m) => void posted.push(m) });
    handle({ type: "warm", resume: { checkpointId: "autosave-20", resumeKey: "resume:machine-q" } });
    await expect.poll(() => events.some((e) => e.startsWith("read:"))).toBe(true);
    // Pinned first: IndexedDB would queue the pin's read-write transaction behind the reads.
    expect(events[0]).toMatch(/^pin:.*autosave-20$/);
    const buffers = createFaultBuffers(CHUNK);
    handle({ type: "begin", session: 21, checkpointId: "autosave-20", buffers, order: [0, 1], resumeKey: "resume:machine-q" });
    await expect.poll(() => posted.some((p) => p.session === 21 && p.type === "ready")).toBe(true);
    expect(events.filter((e) => e.startsWith("pin:"))).toHaveLength(1);
    // The session owns the pin now: it lets it go when it ends.
    Atomics.store(new Int32Array(buffers.control), CONTROL.closed, 1);
    Atomics.notify(new Int32Array(buffers.control), CONTROL.state);
    await expect.poll(() => events.filter((e) => e.startsWith("unpin:"))).toEqual([events[0].replace("pin:", "unpin:")]);
  });

  it("is let go when a newer read-ahead replaces one nobody took", async () => {
    const events: string[] = [];
    const handle = ramLoader({ store: async () => recordingStore(events), openShared: async () => source("none"), post: () => undefined });
    handle({ type: "warm", resume: { checkpointId: "autosave-30", resumeKey: "resume:machine-r" } });
    await expect.poll(() => events.some((e) => e.startsWith("pin:"))).toBe(true);
    handle({ type: "warm", resume: { checkpointId: "autosave-31", resumeKey: "resume:machine-r" } });
    await expect.poll(() => events.filter((e) => e.startsWith("unpin:"))).toHaveLength(1);
    expect(events.find((e) => e.startsWith("unpin:"))).toMatch(/autosave-30$/);
  });
});
