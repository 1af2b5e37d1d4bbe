/**
 * Deletions of session data that a disk session started and must see through. Each is retried
 * inside the layer store; what still fails is reported at once and again by settled(), so a
 * reset (or any wipe) can resolve only once nothing of the session is left, or say what is.
 */
import { LayerError } from "./errors";

export class PendingDeletions {
  private readonly running = new Set<Promise<void>>();
  private failures: string[] = [];

  constructor(private readonly report: (message: string) => void) {}

  /** Follows `work` (e.g. a deleteLayer's blocksDeleted); `what` names it in a failure. */
  track(what: string, work: Promise<unknown>): void {
    const followed = work.then(
      () => undefined,
      (e: unknown) => {
        const message = `${what}: ${e instanceof Error ? e.message : String(e)}`;
        this.failures.push(message);
        this.report(message);
      },
    );
    this.running.add(followed);
    void followed.finally(() => this.running.delete(followed));
  }

  /** Starts `work` now and follows it. */
  run(what: string, work: () => Promise<unknown>): void {
    this.track(what, work());
  }

  get busy(): boolean {
    return this.running.size > 0;
  }

  /**
   * Resolves once every deletion started so far (and any they started) is over. Rejects with the
   * failures since the last call; those records are orphans the next start sweeps again.
   */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
    const failures = this.failures;
    this.failures = [];
    if (failures.length > 0) throw new LayerError(`Some of the session's data could not be deleted yet (it is retried at the next start): ${failures.join("; ")}`, "storage-failed");
  }
}
