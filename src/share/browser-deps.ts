/**
 * What the share code uses in the browser (the checkpoint-I/O worker and the RAM loader pass their
 * own store getters): the served guests, the sharer's key store, the working sets, the store
 * client, and a user's images by id.
 */
import type { CheckpointStore } from "../checkpoint/checkpoint-store";
import type { LayerStore } from "../disk/layer-store";
import { openImageById } from "../disk/image-by-id";
import { loadGuestManifest } from "../guest/guest-loader";
import { GUEST_URLS } from "../protocol/guest-manifest";
import type { GuestIdentity, ShareBridgeDeps } from "./checkpoint-share";
import { sharedImageBlocks } from "./image-blocks";
import { ShareKeyStore } from "./key-store";
import { StoreClient } from "./store-client";

let guestPromise: Promise<GuestIdentity[]> | undefined;
let keyStorePromise: Promise<ShareKeyStore> | undefined;

/**
 * The guests this app serves. A share is made on, and opens into, the one whose build the
 * checkpoint names (`wanted`); without one, or when none matches, the default guest answers
 * (and the caller reports the mismatch). A guest that is not built here is skipped.
 */
async function servedGuest(wanted?: string): Promise<GuestIdentity> {
  guestPromise ??= Promise.all(
    Object.values(GUEST_URLS).map((url) =>
      loadGuestManifest(url).then(
        ({ manifest, baseUrl }): GuestIdentity => {
          const disk = manifest.files.disk;
          return { guestImageId: manifest.inputsHash, base: { url: new URL(disk.path, baseUrl).pathname, sha256: disk.sha256, size: disk.size } };
        },
        () => undefined,
      ),
    ),
  ).then((all) => {
    const found = all.filter((g): g is GuestIdentity => g !== undefined);
    if (found.length === 0) throw new Error("no built-in guest could be loaded");
    return found;
  });
  guestPromise.catch(() => (guestPromise = undefined)); // a failed fetch is retried next time
  const guests = await guestPromise;
  return guests.find((g) => g.guestImageId === wanted) ?? guests[0];
}

/** `store`: base URL of the store to read from, when not the app's own (a published state's folder). */
export async function browserShareDeps(checkpoints: () => Promise<CheckpointStore>, layers: () => Promise<LayerStore>, store?: string): Promise<ShareBridgeDeps> {
  keyStorePromise ??= ShareKeyStore.open();
  const [c, l, keys] = await Promise.all([checkpoints(), layers(), keyStorePromise]);
  const workingSet = async (id: string): Promise<number[]> => {
    const { WorkingSetStore } = await import("../lazy/working-set-store");
    const store = await WorkingSetStore.open();
    try {
      return await store.get(id);
    } finally {
      store.close(); // one read per share: no connection left to hold up a later upgrade
    }
  };
  const openImage = (imageId: string) => openImageById(imageId, l.db, sharedImageBlocks);
  return { checkpoints: c, layers: l, keys, client: new StoreClient(store ? { baseUrl: store } : {}), guest: servedGuest, workingSet, openImage, ...(store ? { storeBase: store } : {}) };
}
