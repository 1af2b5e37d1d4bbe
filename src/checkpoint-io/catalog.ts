/**
 * Catalog jobs: list, label, remove, garbage collection. The CheckpointCatalog part of it reaches
 * the page unchanged (src/emulator/checkpoints-facet.ts passes it through).
 */
import { checkpointSummary, collectGarbage, deleteCheckpoint, listCheckpoints } from "../checkpoint/gc";
import { SharingCache } from "./sharing-cache";
import type { CatalogJobs, NewestCheckpoint } from "../protocol/checkpoint-io";
import type { CheckpointStore } from "../checkpoint/checkpoint-store";
import { checkpointStore } from "./stores";
import { checkpointMissing } from "../checkpoint/errors";
import { readDeviceStateAhead } from "./load";
import { BUILT_IN_MACHINES } from "../protocol/checkpoint-io";
import { isOwnMachine, machineKey } from "../protocol/checkpoint-data";

/** This worker's list state (the worker is the one place lists are made). */
const sharingCache = new SharingCache();

export const catalogJobs: CatalogJobs = {
  async list() {
    const s = await checkpointStore();
    const manifests = await s.listManifests();
    const sharing = await sharingCache.sizes(s, manifests);
    return manifests.map((m) => ({ ...checkpointSummary(m), ...(sharing.get(m.id) ?? { ownBytes: 0, sharedBytes: 0 }) }));
  },

  async label(id, label) {
    await (await checkpointStore()).updateManifest(id, (m) => ({ ...m, label }));
  },

  async remove(id) {
    const released = await deleteCheckpoint(await checkpointStore(), id);
    // What only this checkpoint used: its share key (a secret that opens its link, useless for
    // re-sharing once it is gone) and its working set. Links already given keep working.
    const [{ ShareKeyStore }, { WorkingSetStore }] = await Promise.all([import("../share/key-store"), import("../lazy/working-set-store")]);
    const forget = async (open: () => Promise<{ delete(id: string): Promise<void>; close(): void }>) => {
      const db = await open();
      try {
        await db.delete(id);
      } finally {
        db.close();
      }
    };
    await Promise.allSettled([forget(() => ShareKeyStore.open()), forget(() => WorkingSetStore.open())]);
    return released;
  },

  async summaries() {
    return listCheckpoints(await checkpointStore());
  },

  async newest(label, machine) {
    return newestCheckpoint(await checkpointStore(), label, machine);
  },

  async copy(id, copyId, label) {
    const s = await checkpointStore();
    const m = await s.getManifest(id);
    if (!m) throw checkpointMissing(id);
    // Committed only if every chunk it names is stored, in one transaction: a collection running
    // meanwhile either kept them for the original or the copy is refused.
    await s.commitManifest({ ...m, id: copyId, parent: id, label, created: Date.now() });
  },

  async gc(options) {
    return collectGarbage(await checkpointStore(), options);
  },
};

/** CatalogJobs.newest on store `s`. */
export async function newestCheckpoint(s: CheckpointStore, label: string, machine: string): Promise<NewestCheckpoint | undefined> {
  const mine = (key: string) => (machine === BUILT_IN_MACHINES ? !isOwnMachine(key) : key === machine);
  const newest = (await s.listManifests())
    .filter((m) => m.label === label && mine(machineKey(m.machine)))
    .sort((a, b) => b.created - a.created)[0];
  if (!newest) return undefined;
  readDeviceStateAhead(s, newest);
  return { id: newest.id, created: newest.created, machineKey: machineKey(newest.machine) };
}
