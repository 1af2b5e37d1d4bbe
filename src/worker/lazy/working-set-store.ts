// Which RAM chunks the guest faulted on in the first seconds after a lazy restore, per
// checkpoint (database "snap86-lazy"). The next restore of the same checkpoint prefetches them
// first, so its early faults find the chunks already decoded. Small (a few KiB per checkpoint);
// a missing or stale record only costs prefetch order, never correctness.
import { openDB, type DBSchema, type IDBPDatabase } from "idb";

interface WorkingSetSchema extends DBSchema {
  workingSets: { key: string; value: { chunks: number[]; updated: number } };
}

export const WORKING_SET_DB = "snap86-lazy";
/** How long after a restore faults count as the working set. */
export const RECORD_MS = 5000;
export const MAX_CHUNKS = 8192;

export class WorkingSetStore {
  /** What this loader learned, usable at once: a restore right after another must not wait for the write. */
  readonly #recent = new Map<string, number[]>();

  private constructor(private readonly db: IDBPDatabase<WorkingSetSchema>) {}

  static async open(name: string = WORKING_SET_DB): Promise<WorkingSetStore> {
    const db = await openDB<WorkingSetSchema>(name, 1, {
      upgrade(d) {
        d.createObjectStore("workingSets");
      },
    });
    return new WorkingSetStore(db);
  }

  async get(checkpointId: string): Promise<number[]> {
    return this.#recent.get(checkpointId) ?? (await this.db.get("workingSets", checkpointId))?.chunks ?? [];
  }

  /** Makes a set known to get() before (and whether or not) it reaches IndexedDB. */
  remember(checkpointId: string, chunks: readonly number[]): void {
    this.#recent.set(checkpointId, [...chunks]);
  }

  /** Newly faulted chunks first, then what was known before; duplicates dropped. */
  async merge(checkpointId: string, faulted: readonly number[]): Promise<void> {
    if (faulted.length === 0) return;
    const before = await this.get(checkpointId);
    const chunks = [...new Set([...faulted, ...before])].slice(0, MAX_CHUNKS);
    this.#recent.set(checkpointId, chunks);
    await this.db.put("workingSets", { chunks, updated: Date.now() }, checkpointId);
  }
}

/**
 * Collects fault order for RECORD_MS: known to the store's get() as it grows (merged with what
 * was known before), written to IndexedDB when the window closes.
 */
export function recordWorkingSet(store: WorkingSetStore, checkpointId: string, windowMs: number = RECORD_MS, before: readonly number[] = []): (index: number) => void {
  const start = performance.now();
  const seen: number[] = [];
  const known = new Set<number>();
  setTimeout(() => void store.merge(checkpointId, seen).catch(() => undefined), windowMs);
  return (index) => {
    if (known.has(index) || seen.length >= MAX_CHUNKS || performance.now() - start >= windowMs) return;
    known.add(index);
    seen.push(index);
    store.remember(checkpointId, [...seen, ...before.filter((i) => !known.has(i))].slice(0, MAX_CHUNKS));
  };
}
