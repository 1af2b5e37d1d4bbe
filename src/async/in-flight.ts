/**
 * Work under way that others wait out (checkpoints being stored, chunks being written).
 *
 * A tracked promise leaves the set in its own settle reaction, before anyone waiting on it
 * resumes, so idle() never finds an already settled entry. Removing it later (after more awaits
 * of the caller) made `while (set.size) await Promise.allSettled(set)` spin in microtasks: the
 * awaited promises were settled, the loop never yielded to the event loop, and the removal that
 * needed an IndexedDB event never came. The worker hung with it.
 */
export class InFlight {
  readonly #running = new Set<Promise<void>>();

  /** Follows `work` until it settles (fulfilled or rejected); returns `work` unchanged. */
  track<T>(work: Promise<T>): Promise<T> {
    const followed: Promise<void> = work.then(ignore, ignore).finally(() => this.#running.delete(followed));
    this.#running.add(followed);
    return work;
  }

  get size(): number {
    return this.#running.size;
  }

  /** Resolves once everything tracked so far, and anything tracked while waiting, has settled. */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running]);
  }
}

function ignore(): void {}
