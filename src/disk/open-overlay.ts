/** Opening a stored layer for writing, guarded by its Web Lock so a second tab cannot write it too. */
import type { BlockSource } from "./base-image";
import { LayerLockedError } from "./errors";
import type { LayerStore } from "./layer-store";
import { Overlay, type OverlayOptions } from "./overlay";
import { acquireLayerLock, defaultLockManager, type LockManagerLike } from "./storage";

export type OpenOverlayOptions = Omit<OverlayOptions, "layer" | "chain" | "store" | "persisted" | "onClose"> & {
  /** Injected in tests; defaults to navigator.locks (none in Node: not enforced). */
  locks?: LockManagerLike | null;
};

/** Throws LayerLockedError when another holder has the layer; the lock is released by overlay.close()/discard(). */
export async function openWritableOverlay(store: LayerStore, layerId: string, base: BlockSource, o: OpenOverlayOptions = {}): Promise<Overlay> {
  const { locks = defaultLockManager(), ...rest } = o;
  const lock = await acquireLayerLock(layerId, locks);
  if (!lock) throw new LayerLockedError(layerId);
  try {
    return await Overlay.open(store, layerId, base, { ...rest, onClose: () => lock.release() });
  } catch (e) {
    lock.release();
    throw e;
  }
}

/** A frozen layer (or any layer) opened without a lock; writes are refused. */
export function openReadOnlyOverlay(store: LayerStore, layerId: string, base: BlockSource): Promise<Overlay> {
  return Overlay.open(store, layerId, base, { readOnly: true });
}
