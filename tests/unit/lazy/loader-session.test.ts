// The loader's side of a lazy restore against a real (fake-indexeddb) checkpoint store: chunks
// come back verified, damage is reported with the checkpoint's id, prefetch covers every
// non-zero chunk in order under flow control, and faults are answered while prefetch runs.
import "fake-indexeddb/auto";
import { beforeAll, describe, expect, it } from "vitest";
import { encodeChunk, initCodec, sha256Hex } from "../../../src/checkpoint/codec";
import type { CheckpointManifest } from "../../../src/checkpoint/manifest";
import { CheckpointStore } from "../../../src/checkpoint/checkpoint-store";
import { StoreChunkSource, type ChunkSource, type PackPagesListener } from "../../../src/lazy/chunk-source";
import { CONTROL, createFaultBuffers, STATE, WHOLE_CHUNK } from "../../../src/lazy/fault-channel";
import { chunksOfPages, prefetchOrder, runLoaderSession, type LoaderMessage } from "../../../src/lazy/loader-session";
import { recordWorkingSet, WorkingSetStore } from "../../../src/lazy/working-set-store";

const CHUNK = 32 * 1024;
let dbCounter = 0;

function randomChunk(seed: number): Uint8Array {
  const out = new Uint8Array(CHUNK);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < CHUNK; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = i % 3 === 0 ? x >>> 24 : 0; // compressible, not trivial
  }
  return out;
}

/** A store holding a 6-chunk "RAM" whose chunks 1 and 4 are zero. */
async function makeCheckpoint(): Promise<{ store: CheckpointStore; manifest: CheckpointManifest; chunks: (Uint8Array | null)[] }> {
  await initCodec();
  const store = await CheckpointStore.open(`lazy-loader-test-${dbCounter++}`);
  const chunks = [0, 1, 2, 3, 4, 5].map((i) => (i === 1 || i === 4 ? null : randomChunk(i)));
  const hashes: (string | null)[] = [];
  for (const c of chunks) {
    if (!c) {
      hashes.push(null);
      continue;
    }
    const hash = await sha256Hex(c);
    const enc = encodeChunk(c);
    await store.putChunks([{ hash, bytes: enc.bytes, rawLength: CHUNK, codec: enc.codec }]);
    hashes.push(hash);
  }
  const manifest = { id: "cp-test-1", chunkSize: CHUNK, ram: { length: CHUNK * chunks.length, chunks: hashes } } as unknown as CheckpointManifest;
  return { store, manifest, chunks };
}

describe("StoreChunkSource", () => {
  beforeAll(() => initCodec());

  it("reads chunks decoded and verified, singly and in batches", async () => {
    const { store, manifest, chunks } = await makeCheckpoint();
    const source = new StoreChunkSource(store, manifest);
    expect(await source.read(2)).toEqual(chunks[2]);
    const many = await source.readMany([5, 0, 3]);
    expect(many).toEqual([chunks[5], chunks[0], chunks[3]]);
  });

  it("refuses a damaged chunk naming the checkpoint, and zero chunks", async () => {
    const { store, manifest } = await makeCheckpoint();
    const hash = manifest.ram.chunks[3]!;
    const tampered = encodeChunk(randomChunk(99));
    await store.putChunks([{ hash, bytes: tampered.bytes, rawLength: CHUNK, codec: tampered.codec }]);
    const source = new StoreChunkSource(store, manifest);
    await expect(source.read(3)).rejects.toThrow(/checkpoint cp-test-1 is damaged/);
    await expect(source.read(1)).rejects.toThrow(/zero/);
  });
});

describe("runLoaderSession", () => {
  it("prefetches every listed chunk in order, within the window, and stops when closed", async () => {
    const { store, manifest, chunks } = await makeCheckpoint();
    const buffers = createFaultBuffers(CHUNK);
    const control = new Int32Array(buffers.control);
    const got: number[] = [];
    let maxInFlight = 0;
    const messages: LoaderMessage[] = [];
    const order = [5, 0, 2, 3];
    const done = runLoaderSession(new StoreChunkSource(store, manifest), { session: 7, buffers, order, batch: 1, window: 2 }, (m) => {
      messages.push(m);
      if (m.type !== "chunk") return;
      got.push(m.index);
      expect(m.bytes).toEqual(chunks[m.index]);
      maxInFlight = Math.max(maxInFlight, got.length - Atomics.load(control, CONTROL.consumed));
      // The emulator consumes a little later, as between ticks.
      setTimeout(() => {
        Atomics.add(control, CONTROL.consumed, 1);
        Atomics.notify(control, CONTROL.consumed);
      }, 3);
    });
    await expect.poll(() => messages.some((m) => m.type === "prefetched")).toBe(true);
    expect(got).toEqual(order);
    expect(maxInFlight).toBeLessThanOrEqual(2);
    expect(messages.every((m) => m.session === 7)).toBe(true);
    Atomics.store(control, CONTROL.closed, 1);
    Atomics.notify(control, CONTROL.state);
    await done;
  });

  it("says \"warmed\" once the working set's chunks went out, before the rest (a local resume waits for it)", async () => {
    const { store, manifest } = await makeCheckpoint();
    const buffers = createFaultBuffers(CHUNK);
    const control = new Int32Array(buffers.control);
    const messages: LoaderMessage[] = [];
    // Pages of chunks 3 and 0 were touched first: those two go out first, then "warmed".
    const workingSet = [3 * (CHUNK / 4096), 0];
    const done = runLoaderSession(new StoreChunkSource(store, manifest), { session: 9, buffers, order: [0, 2, 3, 5], workingSet, batch: 1, window: 8 }, (m) => {
      messages.push(m);
      if (m.type === "chunk") {
        Atomics.add(control, CONTROL.consumed, 1);
        Atomics.notify(control, CONTROL.consumed);
      }
    });
    await expect.poll(() => messages.some((m) => m.type === "prefetched")).toBe(true);
    const sequence = messages.map((m) => (m.type === "chunk" ? m.index : m.type));
    expect(sequence).toEqual([3, 0, "warmed", 2, 5, "prefetched"]);
    Atomics.store(control, CONTROL.closed, 1);
    Atomics.notify(control, CONTROL.state);
    await done;
  });

  it("says \"warmed\" for a share only once its pack has streamed, after the pack's pages", async () => {
    const { store, manifest, chunks } = await makeCheckpoint();
    const buffers = createFaultBuffers(CHUNK);
    let listener: PackPagesListener | undefined;
    let streamed: () => void = () => undefined;
    const packDone = new Promise<void>((resolve) => (streamed = resolve));
    const source: ChunkSource = {
      read: (i) => new StoreChunkSource(store, manifest).read(i),
      readMany: () => new Promise(() => undefined), // the rest waits for the pack, as a share's does
      onPackPages: (l) => void (listener = l),
      packStreamed: () => packDone,
    };
    const posted: string[] = [];
    void runLoaderSession(source, { session: 4, buffers, order: [0, 2] }, (m) => posted.push(m.type));
    const page = chunks[3]!.slice(0, 4096);
    listener!([3 * 8], page);
    await new Promise((r) => setTimeout(r, 20));
    // A first part is here, the pack goes on: the guest must not start yet.
    expect(posted).toEqual(["pages"]);
    listener!([3 * 8 + 1], page);
    streamed();
    await expect.poll(() => posted.includes("warmed")).toBe(true);
    expect(posted).toEqual(["pages", "pages", "warmed"]);
    const control = new Int32Array(buffers.control);
    Atomics.store(control, CONTROL.closed, 1);
    Atomics.notify(control, CONTROL.state);
  });

  it("answers a fault while prefetch is held back by the window", async () => {
    const { store, manifest, chunks } = await makeCheckpoint();
    const buffers = createFaultBuffers(CHUNK);
    const control = new Int32Array(buffers.control);
    const reads: number[] = [];
    const base = new StoreChunkSource(store, manifest);
    const source: ChunkSource = {
      read: (i) => (reads.push(i), base.read(i)),
      readMany: (is) => base.readMany(is),
    };
    // Window 1 and nobody consuming: prefetch stalls after its first chunk.
    const posted: number[] = [];
    void runLoaderSession(source, { session: 1, buffers, order: [0, 2, 3, 5], batch: 1, window: 1 }, (m) => {
      if (m.type === "chunk") posted.push(m.index);
    });
    await expect.poll(() => posted.length).toBe(1);
    // A fault as the emulator worker would raise it (it blocks; here we poll instead).
    Atomics.store(control, CONTROL.chunk, 5);
    Atomics.store(control, CONTROL.state, STATE.requested);
    Atomics.notify(control, CONTROL.state);
    await expect.poll(() => Atomics.load(control, CONTROL.state)).toBe(STATE.done);
    expect(new Uint8Array(buffers.staging).slice(0, Atomics.load(control, CONTROL.length))).toEqual(chunks[5]);
    expect(reads).toEqual([5]);
    // A fault on a chunk prefetch already decoded is served from the loader's cache.
    Atomics.store(control, CONTROL.chunk, 0);
    Atomics.store(control, CONTROL.state, STATE.requested);
    Atomics.notify(control, CONTROL.state);
    await expect.poll(() => Atomics.load(control, CONTROL.state)).toBe(STATE.done);
    expect(new Uint8Array(buffers.staging).slice(0, CHUNK)).toEqual(chunks[0]);
    expect(reads).toEqual([5]);
    expect(posted).toEqual([0]);
    Atomics.store(control, CONTROL.closed, 1);
    Atomics.notify(control, CONTROL.state);
    Atomics.notify(control, CONTROL.consumed);
  });
});

describe("working set", () => {
  it("puts known working-set chunks first, keeping only listed ones, without duplicates", () => {
    expect(prefetchOrder([0, 2, 3, 5, 7], [5, 9, 2, 5])).toEqual([5, 2, 0, 3, 7]);
    expect(prefetchOrder([0, 2], [])).toEqual([0, 2]);
  });

  it("turns working-set pages into their chunks, in first-page order", () => {
    expect(chunksOfPages([41, 3, 40, 7, 0, 17], 8)).toEqual([5, 0, 2]);
  });

  it("records first touches of the first moments and merges them into the stored set", async () => {
    const store = await WorkingSetStore.open(`ws-test-${dbCounter++}`);
    const record = recordWorkingSet(store, "cp-x", 100);
    record([4, 1]);
    record([4]);
    await new Promise((r) => setTimeout(r, 120));
    record([9]); // too late: not part of the early working set
    await expect.poll(() => store.get("cp-x")).toEqual([4, 1]);
    await store.merge("cp-x", [7, 1]);
    expect(await store.get("cp-x")).toEqual([7, 1, 4]);
    expect(await store.get("cp-other")).toEqual([]);
  });

  it("answers a fault with the pages a source has ahead of the chunk, and passes those pages on", async () => {
    const { store, manifest, chunks } = await makeCheckpoint();
    const buffers = createFaultBuffers(CHUNK);
    const control = new Int32Array(buffers.control);
    const staging = new Uint8Array(buffers.staging);
    const page = chunks[3]!.slice(2 * 4096, 3 * 4096);
    const reads: number[] = [];
    const inner = new StoreChunkSource(store, manifest);
    let listener: PackPagesListener | undefined;
    const source: ChunkSource = {
      read: (i) => (reads.push(i), inner.read(i)),
      readMany: (is) => new Promise(() => void is), // prefetch never finishes here
      partial: (index, p) => {
        if (index !== 3 || p !== 3 * 8 + 2) return undefined;
        const bytes = new Uint8Array(CHUNK);
        bytes.set(page, 2 * 4096);
        return { bytes, pages: 1 << 2 };
      },
      onPackPages: (l) => void (listener = l),
    };
    const posted: LoaderMessage[] = [];
    void runLoaderSession(source, { session: 2, buffers, order: [] }, (m) => posted.push(m));
    listener!([3 * 8 + 2], page);
    expect(posted.filter((m) => m.type === "pages")).toEqual([{ type: "pages", session: 2, pages: [26], data: page }]);
    const fault = async (chunk: number, p: number): Promise<number> => {
      Atomics.store(control, CONTROL.chunk, chunk);
      Atomics.store(control, CONTROL.page, p);
      Atomics.store(control, CONTROL.state, STATE.requested);
      Atomics.notify(control, CONTROL.state);
      await expect.poll(() => Atomics.load(control, CONTROL.state)).toBe(STATE.done);
      Atomics.store(control, CONTROL.state, STATE.idle);
      return Atomics.load(control, CONTROL.pages);
    };
    expect(await fault(3, 26)).toBe(1 << 2); // the pack's page: no read
    expect(Buffer.compare(staging.subarray(2 * 4096, 3 * 4096), page)).toBe(0);
    expect(reads).toEqual([]);
    expect(await fault(3, 25)).toBe(WHOLE_CHUNK); // another page of that chunk: the whole chunk is read
    expect(Buffer.compare(staging, chunks[3]!)).toBe(0);
    expect(reads).toEqual([3]);
    Atomics.store(control, CONTROL.closed, 1);
    Atomics.notify(control, CONTROL.state);
  });
});
