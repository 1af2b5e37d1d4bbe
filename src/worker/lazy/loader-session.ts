// One lazy restore as the loader worker runs it: demand faults first, background prefetch of
// every other non-zero chunk in between. Independent of the Worker API so Node tests can drive it.
import type { ChunkSource } from "./chunk-source";
import { isClosed, serveFaults, waitForWindow, type FaultBuffers } from "./fault-channel";

/** Loader -> emulator worker messages. */
export type LoaderMessage =
  | { type: "ready"; session: number }
  | { type: "chunk"; session: number; index: number; bytes: Uint8Array }
  | { type: "prefetched"; session: number }
  | { type: "error"; session: number; message: string };

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
  /** Chunks the guest faulted on soon after an earlier restore of this checkpoint: prefetched first. */
  workingSet?: readonly number[];
  /** Called with each chunk a fault asked for (to learn the working set). */
  onDemand?(index: number): void;
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

export async function runLoaderSession(source: ChunkSource, opts: LoaderSessionOptions, post: (m: LoaderMessage, transfer?: Transferable[]) => void): Promise<void> {
  const cache = new Map<number, Uint8Array>();
  const cacheLimit = opts.cacheChunks ?? 256;
  const remember = (index: number, bytes: Uint8Array): void => {
    cache.set(index, bytes);
    if (cache.size > cacheLimit) cache.delete(cache.keys().next().value as number);
  };
  const demand = serveFaults(opts.buffers, async (index) => {
    opts.onDemand?.(index);
    return cache.get(index) ?? source.read(index);
  });
  const order = prefetchOrder(opts.order, opts.workingSet);
  const prefetch = (async () => {
    const batch = opts.batch ?? 16;
    const window = opts.window ?? 128;
    let sent = 0;
    for (let from = 0; from < order.length; from += batch) {
      await waitForWindow(opts.buffers, sent, window);
      if (isClosed(opts.buffers)) return;
      const indices = order.slice(from, from + batch);
      const chunks = await source.readMany(indices);
      chunks.forEach((bytes, k) => {
        remember(indices[k], bytes);
        // A copy crosses: the cached one stays usable for faults.
        const copy = bytes.slice();
        post({ type: "chunk", session: opts.session, index: indices[k], bytes: copy }, [copy.buffer]);
        sent++;
      });
    }
    post({ type: "prefetched", session: opts.session });
  })();
  prefetch.catch((e: unknown) => post({ type: "error", session: opts.session, message: e instanceof Error ? e.message : String(e) }));
  await Promise.allSettled([demand, prefetch]);
}
