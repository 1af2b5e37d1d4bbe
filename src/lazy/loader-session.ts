// One lazy restore as the loader worker runs it: demand faults first, background prefetch of
// every other non-zero chunk in between. Independent of the Worker API so Node tests can drive it.
import type { ChunkSource } from "./chunk-source";
import { isClosed, serveFaults, waitForWindow } from "./fault-channel";
import { ShelfWriter } from "./chunk-shelf";
import type { FaultBuffers, LoaderMessage } from "../protocol/ram-loader";

export type { LoaderMessage };
import { PAGE_SIZE } from "../v86/page-walker";

export interface LoaderSessionOptions {
  session: number;
  buffers: FaultBuffers;
  /** Non-zero chunk indices in the order to prefetch them (working set first). */
  order: readonly number[];
  /** Chunks per prefetch read. */
  batch?: number;
  /** Sent but not yet applied prefetch chunks allowed (bounds memory in the message queue). */
  window?: number;
  /** Decoded chunks kept so a fault on a chunk still queued for the emulator costs no read. */
  cacheChunks?: number;
  /** Pages the guest touched first after an earlier restore or before the capture: their chunks are prefetched first. */
  workingSet?: readonly number[];
  /** After every chunk went through the source (a shared checkpoint then commits its manifest). */
  onPrefetched?(): Promise<void>;
}

/** `order` with the working set's chunks (those in `order`) moved to the front, in their order. */
export function prefetchOrder(order: readonly number[], workingSet: readonly number[] = []): number[] {
  const listed = new Set(order);
  const first: number[] = [];
  const seen = new Set<number>();
  for (const i of workingSet) {
    if (listed.has(i) && !seen.has(i)) {
      seen.add(i);
      first.push(i);
    }
  }
  return [...first, ...order.filter((i) => !seen.has(i))];
}

/** The chunks of working-set pages, in the order their first page appears. */
export function chunksOfPages(pages: readonly number[], pagesPerChunk: number): number[] {
  return [...new Set(pages.map((page) => Math.floor(page / pagesPerChunk)))];
}

/** Working-set chunks read at once when a session begins: the guest will want them within moments. */
const WORKING_SET_LIMIT = 512;
const WORKING_SET_BATCH = 32;
/** Working-set batches read ahead of the one being sent. */
const HOT_READS_AHEAD = 2;
/** After this many working-set chunks went out, "warmed": 2 MiB, a few tens of ms from IndexedDB. */
export const WARM_CHUNKS = 64;

export async function runLoaderSession(source: ChunkSource, opts: LoaderSessionOptions, post: (m: LoaderMessage, transfer?: Transferable[]) => void): Promise<void> {
  const cache = new Map<number, Uint8Array>();
  // Every chunk read also goes on the shelf, where the emulator takes it in a fault without asking.
  const shelf = opts.buffers.shelf ? new ShelfWriter(opts.buffers.shelf) : undefined;
  const workingSet = chunksOfPages(opts.workingSet ?? [], opts.buffers.staging.byteLength / PAGE_SIZE);
  const cacheLimit = Math.max(opts.cacheChunks ?? 256, Math.min(workingSet.length, WORKING_SET_LIMIT));
  const remember = (index: number, bytes: Uint8Array): void => {
    shelf?.put(index, bytes);
    cache.set(index, bytes);
    if (cache.size > cacheLimit) cache.delete(cache.keys().next().value as number);
  };
  // Reads under way, so a fault on a chunk prefetch is already reading waits for that read.
  const inflight = new Map<number, Promise<Uint8Array>>();
  const read = (indices: readonly number[]): Promise<Uint8Array[]> => {
    const p = source.readMany(indices);
    indices.forEach((index, k) => {
      const one = p.then((all) => all[k]);
      one.catch(() => undefined); // the batch's own caller sees the error
      inflight.set(index, one);
    });
    void p.then(
      (all) => all.forEach((bytes, k) => remember(indices[k], bytes)),
      () => undefined,
    ).finally(() => indices.forEach((i) => inflight.delete(i)));
    return p;
  };
  source.onPackPages?.((pages, data) => {
    const copy = data.slice(); // only its own buffer can be transferred
    post({ type: "pages", session: opts.session, pages: [...pages], data: copy }, [copy.buffer]);
  });
  const demand = serveFaults(
    opts.buffers,
    async (index, page) => cache.get(index) ?? source.partial?.(index, page) ?? (source.demandBypassesPrefetch ? undefined : inflight.get(index)) ?? source.read(index),
  );
  const order = prefetchOrder(opts.order, workingSet);
  const listed = new Set(opts.order);
  const hot = workingSet.filter((i) => listed.has(i)).slice(0, WORKING_SET_LIMIT);
  const prefetch = (async () => {
    const batch = opts.batch ?? 16;
    const window = opts.window ?? 128;
    let sent = 0;
    const send = (indices: readonly number[], chunks: readonly Uint8Array[]): void => {
      chunks.forEach((bytes, k) => {
        // A copy crosses: the cached one stays usable for faults.
        const copy = bytes.slice();
        post({ type: "chunk", session: opts.session, index: indices[k], bytes: copy }, [copy.buffer]);
        sent++;
      });
    };
    // The recorded working set first, so the first faults find their chunks in flight or decoded.
    // Growing batches: the first faults come in working-set order, so the first chunks must not
    // wait for a large read to finish.
    const hotBatches: number[][] = [];
    for (let i = 0, size = 2; i < hot.length; i += size, size = Math.min(size * 2, WORKING_SET_BATCH)) hotBatches.push(hot.slice(i, i + size));
    // Only a few batches ahead: a fault's own read queues behind every read already issued (one
    // IndexedDB queue, one thread decoding and verifying), and the guest waits on that fault.
    const hotReads: Array<Promise<Uint8Array[]>> = [];
    const startHot = (b: number): void => {
      if (b < hotBatches.length) hotReads[b] ??= read(hotBatches[b]);
    };
    for (let b = 0; b < HOT_READS_AHEAD; b++) startHot(b);
    let warmed = false;
    const warm = (): void => {
      if (!warmed) post({ type: "warmed", session: opts.session });
      warmed = true;
    };
    // A share's pack is its working set: warmed once all of it went out (its "pages" messages
    // come before this one), never on the count of chunks read.
    const packStreamed = source.packStreamed?.();
    if (packStreamed) void packStreamed.then(warm, warm);
    for (let b = 0; b < hotBatches.length; b++) {
      const chunks = await hotReads[b];
      startHot(b + HOT_READS_AHEAD);
      if (isClosed(opts.buffers)) return;
      send(hotBatches[b], chunks);
      if (sent >= WARM_CHUNKS && !packStreamed) warm();
    }
    if (!packStreamed) warm();
    const rest = order.slice(hot.length);
    for (let from = 0; from < rest.length; from += batch) {
      await waitForWindow(opts.buffers, sent, window);
      if (isClosed(opts.buffers)) return;
      const indices = rest.slice(from, from + batch);
      send(indices, await read(indices));
    }
    post({ type: "prefetched", session: opts.session });
    await opts.onPrefetched?.();
  })();
  prefetch.catch((e: unknown) => post({ type: "error", session: opts.session, message: e instanceof Error ? e.message : String(e) }));
  await Promise.allSettled([demand, prefetch]);
}
