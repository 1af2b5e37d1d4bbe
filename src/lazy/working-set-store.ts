// Which RAM pages the guest touched first, per checkpoint (database "snap86-lazy"): in the
// seconds before its capture (walk-recorder.ts) and after each lazy restore of it. The next
// restore prefetches their chunks first, and a share carries exactly these pages in its pack.
// Small (a few KiB per checkpoint); a missing or stale record only costs prefetch order and
// pack size, never correctness.
import { openWorkingSetDb, type WorkingSetDb } from "../storage/working-set-db";

/** How long after a restore first touches count as the working set. */
export const RECORD_MS = 5000;
export const MAX_PAGES = 8192;
/** When a recording is first written (then again when its window closes). */
const EARLY_WRITE_MS = 1000;

export class WorkingSetStore {
  /** What this loader learned, usable at once: a restore right after another must not wait for the write. */
  readonly #recent = new Map<string, number[]>();

  private constructor(private readonly db: WorkingSetDb) {}

  static async open(name?: string): Promise<WorkingSetStore> {
    return new WorkingSetStore(await openWorkingSetDb(name));
  }

  async get(checkpointId: string): Promise<number[]> {
    return this.#recent.get(checkpointId) ?? (await this.db.get("workingSets", checkpointId))?.pages ?? [];
  }

  /** Makes a set known to get() before (and whether or not) it reaches IndexedDB. */
  remember(checkpointId: string, pages: readonly number[]): void {
    this.#recent.set(checkpointId, [...pages]);
  }

  /** The checkpoint is deleted: its record goes too. */
  async delete(checkpointId: string): Promise<void> {
    this.#recent.delete(checkpointId);
    await this.db.delete("workingSets", checkpointId);
  }

  close(): void {
    this.db.close();
  }

  /** Newly touched pages first, then what was known before; duplicates dropped. */
  async merge(checkpointId: string, touched: readonly number[]): Promise<void> {
    if (touched.length === 0) return;
    const before = await this.get(checkpointId);
    const pages = [...new Set([...touched, ...before])].slice(0, MAX_PAGES);
    this.#recent.set(checkpointId, pages);
    await this.db.put("workingSets", { pages, updated: Date.now() }, checkpointId);
  }
}

/**
 * Collects first-touch order for RECORD_MS: known to the store's get() as it grows (merged with
 * what was known before), written to IndexedDB when the window closes.
 */
export function recordWorkingSet(store: WorkingSetStore, checkpointId: string, windowMs: number = RECORD_MS, before: readonly number[] = []): (pages: readonly number[]) => void {
  const start = performance.now();
  const seen: number[] = [];
  const known = new Set<number>();
  // Written after the first second too: a tab reloaded again within the window (a user who
  // reloads twice) must not lose what this resume learned.
  for (const at of new Set([Math.min(EARLY_WRITE_MS, windowMs), windowMs])) setTimeout(() => void store.merge(checkpointId, [...seen]).catch(() => undefined), at);
  return (pages) => {
    if (performance.now() - start >= windowMs) return;
    const count = seen.length;
    for (const page of pages) {
      if (known.has(page) || seen.length >= MAX_PAGES) continue;
      known.add(page);
      seen.push(page);
    }
    if (seen.length > count) store.remember(checkpointId, [...seen, ...before.filter((i) => !known.has(i))].slice(0, MAX_PAGES));
  };
}
