/** Fast reset of a session disk: throw the session overlay away and start over on a fresh child. */
import type { LayerMeta } from "./db";
import { LayerError } from "./errors";
import type { LayerStore } from "./layer-store";

export interface WipeResult {
  /** The fresh, empty layer to continue on. */
  layer: LayerMeta;
  /** Resolves when every block of the old overlay is gone from IndexedDB. */
  blocksDeleted: Promise<void>;
}

/**
 * Drops `sessionLayerId` (metadata now, blocks in the background) and returns a fresh layer on
 * `parentId` (a frozen golden layer), or directly on the pristine base image when `parentId` is null/omitted.
 * Close the session's Overlay first (overlay.discard(): its unflushed writes are not wanted).
 */
export async function wipe(store: LayerStore, sessionLayerId: string, parentId: string | null = null): Promise<WipeResult> {
  const old = await store.mustGet(sessionLayerId);
  if (old.frozen) throw new LayerError(`disk layer ${sessionLayerId} is frozen (a checkpoint): delete it explicitly instead`);
  if (parentId === sessionLayerId) throw new LayerError("cannot continue on the layer being wiped");
  const layer =
    parentId === null
      ? await store.createLayer({ parent: null, imageId: old.imageId, blockSize: old.blockSize, label: old.label ?? "session" })
      : await store.createChild(parentId, old.label ?? "session");
  const { blocksDeleted } = await store.deleteLayer(sessionLayerId);
  return { layer, blocksDeleted };
}
