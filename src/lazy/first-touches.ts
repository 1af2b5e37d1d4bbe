// The pages a restored guest touches, in first-touch order, for the first seconds after a lazy
// restore: the page-level working set (a fault only names one page of the chunk it brings in,
// and pages already resident never fault). Called from the page-walk hook, so touch() is a
// flag test; pages go out in batches.

export class FirstTouches {
  readonly #seen: Uint8Array;
  #batch: number[] = [];
  /** Every page recorded, in first-touch order (the working set a later capture inherits). */
  readonly #recorded: number[] = [];
  readonly #until: number;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    pageCount: number,
    windowMs: number,
    private readonly send: (pages: number[]) => void,
    private readonly now: () => number = () => performance.now(),
    batchMs = 100,
  ) {
    this.#seen = new Uint8Array(pageCount);
    this.#until = now() + windowMs;
    this.#timer = setInterval(() => this.#drain(), batchMs);
  }

  touch(page: number): void {
    if (this.#seen[page] !== 0) return;
    this.#seen[page] = 1;
    if (this.now() > this.#until) {
      this.stop();
      return;
    }
    this.#batch.push(page);
    this.#recorded.push(page);
  }

  /** The pages recorded so far, in first-touch order. */
  pages(): readonly number[] {
    return this.#recorded;
  }

  /** Sends what is batched and records nothing more. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#seen.fill(1);
    this.#drain();
  }

  #drain(): void {
    if (this.now() > this.#until && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
    if (this.#batch.length === 0) return;
    const pages = this.#batch;
    this.#batch = [];
    this.send(pages);
  }
}
