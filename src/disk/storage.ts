/**
 * Browser storage helpers: persistence request, quota estimate, and the Web Lock that keeps a writable
 * overlay to one tab. Everything degrades to "unknown"/"not enforced" where the API is missing (Node tests).
 */

export interface PersistResult {
  supported: boolean;
  /** True when the browser promised not to evict this origin's storage under pressure. */
  persisted: boolean;
}

interface StorageManagerLike {
  persist?: () => Promise<boolean>;
  persisted?: () => Promise<boolean>;
  estimate?: () => Promise<{ usage?: number; quota?: number }>;
}

function storageManager(): StorageManagerLike | undefined {
  const nav = (globalThis as { navigator?: { storage?: StorageManagerLike } }).navigator;
  return nav?.storage;
}

export async function requestPersistence(sm: StorageManagerLike | undefined = storageManager()): Promise<PersistResult> {
  if (!sm?.persist) return { supported: false, persisted: false };
  try {
    if (sm.persisted && (await sm.persisted())) return { supported: true, persisted: true };
    return { supported: true, persisted: await sm.persist() };
  } catch {
    // Workers may lack persist(); the page can ask instead.
    return { supported: false, persisted: false };
  }
}

export interface StorageEstimateResult {
  usage: number;
  quota: number;
}

export async function storageEstimate(sm: StorageManagerLike | undefined = storageManager()): Promise<StorageEstimateResult | null> {
  if (!sm?.estimate) return null;
  const e = await sm.estimate();
  return { usage: e.usage ?? 0, quota: e.quota ?? 0 };
}

/** The part of the Web Locks API used here, so tests can inject their own. */
export interface LockManagerLike {
  request(
    name: string,
    options: { ifAvailable: boolean; mode?: "exclusive" | "shared" },
    callback: (lock: unknown) => unknown,
  ): Promise<unknown>;
}

export function defaultLockManager(): LockManagerLike | null {
  const nav = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator;
  return nav?.locks ?? null;
}

export interface LayerLock {
  readonly name: string;
  /** False when no lock manager exists (Node): nothing stops a second writer. */
  readonly enforced: boolean;
  release(): void;
}

export function layerLockName(layerId: string): string {
  return `snap86-disk-${layerId}`;
}

/**
 * Takes the exclusive lock of a writable layer without waiting. Resolves to null when someone else
 * (another tab, usually) holds it; the lock is held until release() or until the tab goes away.
 */
export function acquireLayerLock(layerId: string, locks: LockManagerLike | null = defaultLockManager()): Promise<LayerLock | null> {
  const name = layerLockName(layerId);
  if (!locks) return Promise.resolve({ name, enforced: false, release() {} });
  return new Promise<LayerLock | null>((resolve, reject) => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    locks
      .request(name, { ifAvailable: true, mode: "exclusive" }, (lock) => {
        if (!lock) {
          resolve(null);
          return undefined;
        }
        resolve({ name, enforced: true, release });
        // The lock lasts as long as this promise is pending.
        return released;
      })
      .catch(reject);
  });
}

/**
 * A frozen layer that no checkpoint names yet, because its checkpoint (or import) is still being
 * written, is "pending". Garbage collection in any worker of any tab skips a layer while someone
 * holds its pending lock, and the orphan sweep skips its blocks. Separate from the write lock:
 * the live overlay holds that one until the very moment the layer is frozen.
 */
export function pendingLockName(layerId: string): string {
  return `snap86-disk-pending-${layerId}`;
}

/** Holds the pending lock of `layerId` until release(); waits if another holder has it. */
export function holdPendingLock(layerId: string, locks: LockManagerLike | null = defaultLockManager()): Promise<LayerLock> {
  const name = pendingLockName(layerId);
  if (!locks) return Promise.resolve({ name, enforced: false, release() {} });
  return new Promise<LayerLock>((resolve, reject) => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    locks
      .request(name, { ifAvailable: false, mode: "exclusive" }, () => {
        resolve({ name, enforced: true, release });
        return released;
      })
      .catch(reject);
  });
}

/** Runs `fn` unless the layer is pending (someone holds its pending lock): then returns undefined. */
export async function unlessPending<T>(layerId: string, fn: () => Promise<T>, locks: LockManagerLike | null = defaultLockManager()): Promise<T | undefined> {
  if (!locks) return fn();
  let out: T | undefined;
  await locks.request(pendingLockName(layerId), { ifAvailable: true, mode: "exclusive" }, async (lock) => {
    if (lock) out = await fn();
  });
  return out;
}
