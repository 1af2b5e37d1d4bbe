// LazyRestore end to end in Node, without v86: a stand-in CPU (real wasm memory at v86's offsets,
// paging off) and a loader in a real worker thread running runLoaderSession over an in-memory
// ChunkSource. Faults block this thread in Atomics.wait while the loader thread answers.
import { Worker } from "node:worker_threads";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { LazyFaultError } from "../../../src/lazy/fault-channel";
import type { LazyCpu } from "../../../src/v86/lazy-ram";
import { LazyRestore, type LazyRestoreInput, type LoaderPort } from "../../../src/lazy/lazy-restore";
import type { LazyWasmHandle } from "../../../src/v86/instrumented-wasm";
import { localChunks } from "../../../src/lazy/local-chunks";
import type { LazyImports } from "../../../src/v86/page-walker";
import { V86_OFFSETS } from "../../../src/v86/page-walker";
import { plainModules } from "../../support/plain-modules";

const CHUNK = 32 * 1024;
const CHUNKS = 32; // 1 MiB of "RAM"
const RAM_OFFSET = 64 * 1024;
let loaderUrl = "";

beforeAll(async () => {
  const urls = await plainModules("lazy-restore-", [
    ["lazy", "fault-channel"],
    ["lazy", "chunk-shelf"],
    ["lazy", "loader-session"],
    ["v86", "page-walker"],
    ["v86", "page-set"],
    ["protocol", "errors"],
  ]);
  loaderUrl = urls["loader-session"];
});

/** Chunk i of the test checkpoint; every 4th chunk is zero (chunk 0 too: the eager page 0). */
const chunkBytes = (i: number): Uint8Array | null => (i % 4 === 0 ? null : Uint8Array.from({ length: CHUNK }, (_, k) => (i * 31 + k * 7) & 0xff || 1));
const hashes = Array.from({ length: CHUNKS }, (_, i) => (chunkBytes(i) ? `h${i}` : null));

/** A loader thread; `damaged` chunks fail like a hash mismatch, prefetch reads take `prefetchDelayMs`. */
function startLoader(opts: { damaged?: number[]; prefetchDelayMs?: number }): { port: LoaderPort; worker: Worker } {
  const code = `
    import { workerData, parentPort } from "node:worker_threads";
    const { runLoaderSession } = await import(workerData.loaderUrl);
    const bytes = (i) => Uint8Array.from({ length: ${CHUNK} }, (_, k) => (i * 31 + k * 7) & 0xff || 1);
    const read = (i) => {
      if (workerData.damaged.includes(i)) throw new Error("checkpoint cp-unit is damaged: chunk h" + i + " does not match its hash");
      return bytes(i);
    };
    const source = {
      read: async (i) => read(i),
      readMany: async (is) => { await new Promise((r) => setTimeout(r, workerData.prefetchDelayMs)); return is.map(read); },
    };
    parentPort.on("message", (m) => {
      if (m.type !== "begin") return;
      parentPort.postMessage({ type: "ready", session: m.session });
      void runLoaderSession(source, { session: m.session, buffers: m.buffers, order: m.order, batch: 4 }, (msg) => parentPort.postMessage(msg));
    });
  `;
  const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`), {
    workerData: { loaderUrl, damaged: opts.damaged ?? [], prefetchDelayMs: opts.prefetchDelayMs ?? 0 },
  });
  const listeners = new Map<unknown, (m: unknown) => void>();
  const port: LoaderPort = {
    postMessage: (m) => worker.postMessage(m),
    addEventListener: (_type, fn) => {
      const l = (data: unknown) => fn({ data } as MessageEvent);
      listeners.set(fn, l);
      worker.on("message", l);
    },
    removeEventListener: (_type, fn) => {
      const l = listeners.get(fn);
      if (l) worker.off("message", l);
    },
  };
  return { port, worker };
}

/** LazyRestore.start on the test checkpoint, the fake machine and a loader; `extra` adds or overrides inputs. */
function startRestore(m: ReturnType<typeof fakeMachine>, loader: LoaderPort, fatal: LazyFaultError[], extra: Partial<LazyRestoreInput> = {}): Promise<LazyRestore> {
  return LazyRestore.start({
    cpu: m.cpu,
    wasm: m.wasm,
    manifest: { id: "cp-unit", chunkSize: CHUNK, ram: { length: CHUNKS * CHUNK, chunks: hashes } },
    loader,
    restoreState: () => m.cpu.unpack_memory(null, null), // where v86's set_state hands RAM to us
    onFatal: (e) => fatal.push(e),
    ...extra,
  });
}

function fakeMachine() {
  const memory = new WebAssembly.Memory({ initial: (RAM_OFFSET + CHUNKS * CHUNK) / 65536 + 1 });
  new DataView(memory.buffer).setUint32(V86_OFFSETS.memorySize, CHUNKS * CHUNK, true); // CR0 = 0: paging off
  const ram = new Uint8Array(memory.buffer, RAM_OFFSET, CHUNKS * CHUNK);
  ram.fill(0xee); // whatever the machine held before the restore
  let hooks: LazyImports | null = null;
  let lazy = false;
  let tlbClears = 0;
  const cpu = {
    wasm_memory: memory,
    mem8: { byteOffset: RAM_OFFSET },
    memory_size: [CHUNKS * CHUNK],
    pack_memory: () => ({}),
    unpack_memory: () => undefined,
    full_clear_tlb: () => void tlbClears++,
    jit_clear_cache: () => undefined,
    read8: (a: number) => ram[a],
    read16: () => 0,
    read32s: () => 0,
    write8: (a: number, v: number) => void (ram[a] = v),
    write16: () => undefined,
    write32: () => undefined,
    read_blob: (o: number, l: number) => ram.slice(o, o + l),
    write_blob: () => undefined,
  } as unknown as LazyCpu;
  const wasm: LazyWasmHandle = {
    exports: {},
    memory,
    setLazy: (on) => void (lazy = on),
    isLazy: () => lazy,
    setHooks: (h) => void (hooks = h),
  };
  return { cpu, wasm, ram, hooks: () => hooks, tlbClears: () => tlbClears };
}

const expected = (page: number): Uint8Array => {
  const i = Math.floor((page * 4096) / CHUNK);
  const c = chunkBytes(i);
  const off = (page * 4096) % CHUNK;
  return c ? c.subarray(off, off + 4096) : new Uint8Array(4096);
};

/** All of the test checkpoint's RAM, as a complete restore must leave it. */
function restoredRam(): Uint8Array {
  const want = new Uint8Array(CHUNKS * CHUNK);
  for (let page = 0; page < CHUNKS * 8; page++) want.set(expected(page), page * 4096);
  return want;
}

describe("LazyRestore", () => {
  let worker: Worker | undefined;
  afterEach(async () => {
    await worker?.terminate();
  });

  it("faults a chunk in from the loader thread, installs all its pages, prefetches the rest and switches lazy mode off", async () => {
    const loader = startLoader({ prefetchDelayMs: 150 });
    worker = loader.worker;
    const m = fakeMachine();
    let restored = 0;
    const fatal: LazyFaultError[] = [];
    let completed: readonly number[] | undefined;
    const r = await startRestore(m, loader.port, fatal, {
      restoreState: () => {
        restored++;
        m.cpu.unpack_memory(null, null);
      },
      onComplete: (touched) => (completed = [...touched]),
    });
    expect(restored).toBe(1);
    expect(m.wasm.isLazy()).toBe(true);
    expect(r.progress().residentPages).toBe(8); // chunk 0 (zero, page 0 eager) only
    expect(m.ram[37 * 4096]).toBe(0xee);

    // A CPU access to page 37 (chunk 4 is zero: pick page 45, chunk 5) while prefetch is slow.
    m.hooks()!.snap86_page_walk(45 * 4096 + 123, 0);
    expect(m.ram.subarray(45 * 4096, 46 * 4096)).toEqual(expected(45));
    // The other seven pages of chunk 5 came with it.
    for (let p = 40; p < 48; p++) expect(r.ram.residency!.has(p)).toBe(true);
    expect(m.ram.subarray(40 * 4096, 48 * 4096)).toEqual(chunkBytes(5));
    expect(r.progress()).toMatchObject({ faults: 1, faultBytes: CHUNK, active: true });
    // A device read through the JS guard faults too.
    expect(m.cpu.read8(9 * CHUNK + 5)).toBe(chunkBytes(9)![5]);

    await r.complete();
    // The pages the guest touched are handed on (the working set of a capture right after).
    expect(completed).toContain(45);
    expect(fatal).toEqual([]);
    expect(m.wasm.isLazy()).toBe(false);
    expect(m.tlbClears()).toBeGreaterThan(0);
    expect(r.progress()).toMatchObject({ active: false, residentPages: CHUNKS * 8, totalPages: CHUNKS * 8 });
    expect(Buffer.compare(m.ram, restoredRam())).toBe(0);
  });

  it("a damaged chunk stops with an error naming the checkpoint instead of handing the guest garbage", async () => {
    const loader = startLoader({ damaged: [6], prefetchDelayMs: 5000 });
    worker = loader.worker;
    const m = fakeMachine();
    const fatal: LazyFaultError[] = [];
    const r = await startRestore(m, loader.port, fatal);
    expect(() => m.hooks()!.snap86_page_walk(6 * CHUNK + 4096, 1)).toThrow(/cp-unit is damaged/);
    expect(m.ram[6 * CHUNK + 4096]).toBe(0xee);
    expect(r.ram.residency!.has((6 * CHUNK) / 4096 + 1)).toBe(false);
    await expect.poll(() => fatal.length).toBe(1);
    expect(fatal[0].message).toMatch(/cp-unit/);
    expect(m.wasm.isLazy()).toBe(false); // aborted: the hook is off
    await r.complete();
  });

  it("fills chunks held in memory (same content hash) without the loader, faults and prefetch alike", async () => {
    // Every chunk the loader would serve is "damaged": only the in-memory image may be used.
    const loader = startLoader({ damaged: [...Array(CHUNKS).keys()], prefetchDelayMs: 0 });
    worker = loader.worker;
    const m = fakeMachine();
    const image = new Uint8Array(CHUNKS * CHUNK);
    // The in-memory image holds the same chunks at other places (content addressing, not position).
    const imageHashes = hashes.map((_, i) => hashes[(i + 3) % CHUNKS]);
    imageHashes.forEach((h, i) => h && image.set(chunkBytes((i + 3) % CHUNKS)!, i * CHUNK));
    const fatal: LazyFaultError[] = [];
    const r = await startRestore(m, loader.port, fatal, { local: localChunks([{ chunks: imageHashes, chunk: (i) => image.subarray(i * CHUNK, (i + 1) * CHUNK) }]) });
    m.hooks()!.snap86_page_walk(5 * CHUNK + 4096, 0);
    expect(m.ram.subarray(5 * CHUNK, 6 * CHUNK)).toEqual(chunkBytes(5));
    expect(r.progress()).toMatchObject({ faults: 1, faultBytes: 0 });
    await r.complete();
    expect(fatal).toEqual([]);
    expect(Buffer.compare(m.ram, restoredRam())).toBe(0);
    expect(m.wasm.isLazy()).toBe(false);
  });
});
