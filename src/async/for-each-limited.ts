/**
 * The one bounded-concurrency loop (share uploads and downloads, capture's store writes, chunk
 * hashing): at most `limit` calls of `work` run at once, each item is drawn from `items` only
 * when a slot is free, so a generator that prepares items (compresses a batch) runs while the
 * work started before it is still going.
 *
 * The first failure (of `work` or of the iterator) rejects at once and no further item is
 * started; calls already running are not awaited (their results no longer matter). An aborted
 * `signal` does the same with the signal's reason.
 */
export function forEachLimited<T>(
  items: Iterable<T>,
  limit: number,
  work: (item: T, index: number) => Promise<unknown>,
  signal?: AbortSignal,
): Promise<void> {
  const slots = Math.max(1, Math.floor(limit));
  return new Promise<void>((resolve, reject) => {
    const iterator = items[Symbol.iterator]();
    let index = 0;
    let running = 0;
    let exhausted = false;
    let settled = false;
    const settle = (error?: { reason: unknown }): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener("abort", onAbort);
      if (error) reject(error.reason);
      else resolve();
    };
    const onAbort = (): void => settle({ reason: signal?.reason });
    const fill = (): void => {
      while (!settled && !exhausted && running < slots) {
        let next: IteratorResult<T>;
        try {
          next = iterator.next();
        } catch (e) {
          settle({ reason: e });
          return;
        }
        // The iterator may have run long (a generator preparing the item): an abort meanwhile wins.
        if (signal?.aborted) return onAbort();
        if (next.done) {
          exhausted = true;
          break;
        }
        running++;
        let started: Promise<unknown>;
        try {
          started = work(next.value, index++);
        } catch (e) {
          started = Promise.reject(e);
        }
        started.then(
          () => {
            running--;
            fill();
          },
          (e: unknown) => settle({ reason: e }),
        );
      }
      if (exhausted && running === 0) settle();
    };
    if (signal?.aborted) return onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
    fill();
  });
}
