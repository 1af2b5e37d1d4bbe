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
    return (await this.db.get("workingSets", checkpointId))?.chunks ?? [];
  }

  /** Newly faulted chunks first, then what was known before; duplicates dropped. */
  async merge(checkpointId: string, faulted: readonly number[]): Promise<void> {
    if (faulted.length === 0) return;
    const before = await this.get(checkpointId);
    const chunks = [...new Set([...faulted, ...before])].slice(0, MAX_CHUNKS);
    await this.db.put("workingSets", { chunks, updated: Date.now() }, checkpointId);
  }
}

/** Collects fault order for RECORD_MS, then stores it. */
export function recordWorkingSet(store: WorkingSetStore, checkpointId: string, windowMs: number = RECORD_MS): (index: number) => void {
  const start = performance.now();
  const seen: number[] = [];
  setTimeout(() => void store.merge(checkpointId, seen).catch(() => undefined), windowMs);
  return (index) => {
    if (seen.length < MAX_CHUNKS && performance.now() - start < windowMs) seen.push(index);
  };
}
